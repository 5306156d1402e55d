import { FakeClock, silentLogger, type Clock } from '@opsloop/core';
import { createPolicyReader, createPolicyRegistry } from '@opsloop/ops';
import { accountIdFor, createMoltbookClient, MOLTBOOK_POLICY_KEYS, type EngagementDeps } from '@opsloop/moltbook';
import { startFakeMoltbook, NO_FAKE_LIMITS, type FakeMoltbook } from '@opsloop/moltbook/testing';
import type { TestDatabase } from '../../../test/db.ts';

export const KEY = 'moltbook_sk_test_engagement_key_123456';
export const ME = 'opsloop-agent';

export async function engagementHarness(db: TestDatabase, options: { limits?: Parameters<typeof startFakeMoltbook>[0]['limits'] } = {}) {
  const clock = new FakeClock('2026-11-23T00:00:00Z');
  const fake: FakeMoltbook = await startFakeMoltbook({ apiKey: KEY, agentName: ME, clock, limits: options.limits ?? NO_FAKE_LIMITS });
  return { clock, fake, deps: (workerId = 'test-worker') => engagementDeps(db, fake.baseUrl, clock, workerId) };
}

/** Engagement dependencies against a (fake) Moltbook at `baseUrl`. */
export function engagementDeps(db: TestDatabase, baseUrl: string, clock: Clock, workerId = 'test-worker'): EngagementDeps {
  const logger = silentLogger();
  return {
    prisma: db.prisma,
    clock,
    logger,
    policy: createPolicyReader({ prisma: db.prisma, logger, registry: createPolicyRegistry(MOLTBOOK_POLICY_KEYS) }),
    client: createMoltbookClient({ apiKey: KEY, baseUrl, clock, sleep: async () => {}, timeoutMs: 2000 }),
    watchPostIds: [],
    maxRepliesPerRun: 1,
    outputDir: `.data/test-moltbook/${db.name}`,
    workerId,
    accountId: accountIdFor(KEY),
    // Waits (pacing, re-checks) pass on the fake clock at once; on the system clock for real.
    sleep: clock instanceof FakeClock ? async (ms) => void clock.advance(ms) : undefined,
  };
}

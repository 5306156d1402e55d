import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, FakeClock, loadConfig } from '@opsloop/core';
import { startService, type RunningService } from '@opsloop/api';
import { INTERNAL_JOBS } from '../src/schedule.ts';
import { loadScheduleFile, manualWakeTimers } from '@opsloop/ops';
import { createMoltbookClient } from '@opsloop/moltbook';
import { startFakeMoltbook, NO_FAKE_LIMITS, type FakeMoltbook } from '@opsloop/moltbook/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { API_TOKEN, HEARTBEAT_TOKEN } from '../../../test/app.ts';

const KEY = 'moltbook_sk_acceptance_secret_key_0987654321';
const ME = 'opsloop-agent';

let db: TestDatabase;
let fake: FakeMoltbook;
const clock = new FakeClock('2026-11-23T00:00:00Z');
const logLines: string[] = [];
const logger = createLogger({
  level: 'debug',
  destination: new Writable({
    write(chunk: Buffer, _e, done) {
      logLines.push(chunk.toString());
      done();
    },
  }),
});

beforeAll(async () => {
  db = await createTestDatabase();
  // Moltbook's post cooldown is real; the comment cooldown is off so one cycle may
  // answer several comments without waiting 20 s of fake time between them.
  fake = await startFakeMoltbook({ apiKey: KEY, agentName: ME, clock, limits: { ...NO_FAKE_LIMITS, postIntervalMs: 30 * 60_000 } });
});
afterAll(async () => {
  await fake?.close();
  await db?.drop();
});

async function start(firstPostId: string): Promise<RunningService> {
  const config = loadConfig({
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    OPS_API_TOKEN: API_TOKEN,
    HEARTBEAT_TOKEN,
    MOLTBOOK_API_KEY: KEY,
    MOLTBOOK_BASE_URL: fake.baseUrl,
    MOLTBOOK_WATCH_POST_IDS: firstPostId,
    MOLTBOOK_REPLY_MAX_PER_RUN: '3',
    MOLTBOOK_OUTPUT_DIR: `.data/test-moltbook/${db.name}`,
    SCHEDULE_FILE: 'schedule.yaml',
    LOG_LEVEL: 'debug',
  });
  // The test fires the ticks itself; the scheduler's own wake-ups never fire.
  return startService(config, logger, { clock, schedulerTimers: manualWakeTimers() });
}

/** One tick of the shipped schedule's engagement cycle, as the scheduler would fire it. */
async function cycle(service: RunningService) {
  const jobs = await loadScheduleFile('schedule.yaml', { internalJobs: INTERNAL_JOBS });
  const outcome = await service.scheduler!.runTick(jobs.find((j) => j.name === 'moltbook-engagement-cycle')!, clock.now());
  expect(outcome.outcome).toBe('succeeded');
  const missionId = (outcome as { detail: { missionId: string } }).detail.missionId;
  await expect
    .poll(async () => (await db.prisma.opsMission.findUniqueOrThrow({ where: { id: missionId } })).status, { timeout: 15_000, interval: 20 })
    .toBe('succeeded');
}

describe('Moltbook engagement through the scheduler (acceptance)', () => {
  it('20 cycles with comments arriving between them and restarts: the second post goes out when allowed, every comment answered exactly once', async () => {
    // The agent's first post went out just now: the second must wait 30 minutes.
    const agentClient = createMoltbookClient({ apiKey: KEY, baseUrl: fake.baseUrl, clock });
    const first = await agentClient.createPost({ submolt_name: 'general', title: 'First post', content: 'Hello, Moltbook.' });
    let service = await start(first.post.id);
    let commenters = 0;
    try {
      for (let i = 1; i <= 20; i++) {
        clock.advance(10 * 60_000);
        if (i <= 18) {
          const posts = [first.post.id];
          const second = (await db.prisma.moltbookEngagementState.findUniqueOrThrow({ where: { id: 1 } })).secondPostId;
          if (second) posts.push(second);
          for (const postId of posts) {
            for (let k = 0; k < (i % 3); k++) {
              const ours = fake.commentsOn(postId).filter((c) => c.author === ME);
              // Sometimes someone answers one of our replies.
              const parentId = k === 1 && ours.length ? ours[ours.length - 1]!.id : undefined;
              fake.addComment(postId, { author: `agent-${commenters++}`, content: `comment ${commenters} in cycle ${i}`, parentId });
            }
          }
        }
        if (i === 6 || i === 13) {
          await service.stop();
          service = await start(first.post.id);
        }
        await cycle(service);
        const state = await db.prisma.moltbookEngagementState.findUniqueOrThrow({ where: { id: 1 } });
        if (i <= 2) expect(state.secondPostStatus).toBe('pending');
        if (i === 3) expect(state).toMatchObject({ secondPostStatus: 'posted', secondPostId: expect.any(String) });
      }
    } finally {
      await service.stop();
    }

    const state = await db.prisma.moltbookEngagementState.findUniqueOrThrow({ where: { id: 1 } });
    const posts = fake.requests.filter((r) => r.method === 'POST' && /\/posts$/.test(r.path) && r.status === 201);
    expect(posts).toHaveLength(2); // the first (by hand) and the second, once
    const secondActions = (await db.prisma.opsEvent.findMany({ where: { kind: 'moltbook:second_post' }, orderBy: { id: 'asc' } })).map(
      (e) => (e.payload as { action: string }).action,
    );
    expect(secondActions.slice(0, 3)).toEqual(['rate_limited', 'waiting', 'posted']);

    let answered = 0;
    for (const postId of [first.post.id, state.secondPostId!]) {
      for (const c of fake.commentsOn(postId).filter((c) => c.author !== ME)) {
        expect(fake.repliesTo(c.id).filter((r) => r.author === ME)).toHaveLength(1);
        answered++;
      }
    }
    expect(answered).toBe(commenters);
    expect(commenters).toBeGreaterThan(20);

    const everything = logLines.join('');
    expect(everything).toContain('reply_monitor.replies_sent');
    expect(everything).not.toContain(KEY);
    const payloads = await db.pool.query(`SELECT payload::text AS p FROM ops_events`);
    expect(payloads.rows.some((r: { p: string }) => r.p.includes(KEY))).toBe(false);
  }, 120_000);
});

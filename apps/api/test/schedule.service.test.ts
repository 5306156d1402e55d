import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, loadConfig, silentLogger } from '@opsloop/core';
import { startService, type RunningService } from '@opsloop/api';
import { manualWakeTimers } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { startFakeSlack } from '../../../test/fakes/fakeSlack.ts';
import { API_TOKEN, HEARTBEAT_TOKEN } from '../../../test/app.ts';

const backupDir = path.join(os.tmpdir(), `opsloop-schedule-test-${process.pid}`);
let db: TestDatabase;
let slack: Awaited<ReturnType<typeof startFakeSlack>>;
const clock = new FakeClock('2026-01-01T20:50:00Z'); // 05:50 in Tokyo

beforeAll(async () => {
  db = await createTestDatabase();
  slack = await startFakeSlack();
});
afterAll(async () => {
  await fs.rm(backupDir, { recursive: true, force: true });
  await slack?.close();
  await db?.drop();
});

function start(env: Record<string, string> = {}): Promise<RunningService> {
  const config = loadConfig({
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    OPS_API_TOKEN: API_TOKEN,
    HEARTBEAT_TOKEN,
    SLACK_WEBHOOK_URL: slack.url,
    WORKERS_ENABLED: 'false',
    SCHEDULE_FILE: 'schedule.yaml',
    // The 00:00 Tokyo backup catches up after the restart: keep it out of the checkout.
    BACKUP_DIR: backupDir,
    LOG_LEVEL: 'silent',
    ...env,
  });
  // The test moves the clock and calls checkDue(): the scheduler's own wake-ups never fire.
  return startService(config, silentLogger(), { clock, schedulerTimers: manualWakeTimers() });
}

const runsOf = async (jobName: string) =>
  (await db.prisma.opsScheduleRun.findMany({ where: { jobName }, orderBy: { scheduledFor: 'asc' } })).map((r) => ({
    tick: r.scheduledFor.toISOString(),
    cause: r.cause,
    outcome: r.outcome,
    reason: r.reason,
  }));

describe('the shipped schedule in the service', () => {
  it('runs the 06:00 summary on time, catches it up once after a restart across 06:00, records skipped Moltbook ticks, and GET /api/ops/schedule shows it all', async () => {
    let service = await start();
    try {
      clock.set('2026-01-01T21:00:00.120Z');
      await service.scheduler!.checkDue();
      expect(await runsOf('ops-daily-summary')).toEqual([{ tick: '2026-01-01T21:00:00.000Z', cause: 'schedule', outcome: 'succeeded', reason: null }]);
      expect(slack.messages).toHaveLength(1);
      // Without MOLTBOOK_API_KEY the engagement cycle did nothing, and says so.
      expect(await runsOf('moltbook-engagement-cycle')).toEqual([{ tick: '2026-01-01T21:00:00.000Z', cause: 'schedule', outcome: 'skipped', reason: 'MOLTBOOK_API_KEY is not set' }]);
      expect(await db.prisma.opsProposal.count()).toBe(0);

      // Down from 05:50 to 06:20 the next day.
      clock.set('2026-01-02T20:50:00Z');
      await service.stop();
      clock.set('2026-01-02T21:20:00Z');
      service = await start();
      await expect.poll(async () => (await runsOf('ops-daily-summary')).map((r) => r.outcome), { timeout: 10_000, interval: 20 }).toEqual(['succeeded', 'succeeded']);
      expect(await runsOf('ops-daily-summary')).toEqual([
        { tick: '2026-01-01T21:00:00.000Z', cause: 'schedule', outcome: 'succeeded', reason: null },
        { tick: '2026-01-02T21:00:00.000Z', cause: 'catch_up', outcome: 'succeeded', reason: null },
      ]);
      expect(slack.messages).toHaveLength(2);
      // The engagement cycle (catch_up: none) did not make up for its missed ticks.
      expect(await runsOf('moltbook-engagement-cycle')).toHaveLength(1);

      // A second restart does not send the summary again.
      await service.stop();
      clock.set('2026-01-02T21:25:00Z');
      service = await start();
      const res = await fetch(`${service.url}/api/ops/schedule`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { enabled: boolean; jobs: { name: string; catchUp: string; nextRunAt: string | null; lastRun: { cause: string; outcome: string; reason: string | null } | null }[] };
      const byName = new Map(body.jobs.map((j) => [j.name, j]));
      expect(body.enabled).toBe(true);
      expect(byName.get('ops-daily-summary')).toMatchObject({ catchUp: 'latest', nextRunAt: '2026-01-03T21:00:00.000Z', lastRun: { cause: 'catch_up', outcome: 'succeeded' } });
      expect(byName.get('moltbook-engagement-cycle')).toMatchObject({ catchUp: 'none', nextRunAt: '2026-01-02T21:30:00.000Z', lastRun: { outcome: 'skipped', reason: 'MOLTBOOK_API_KEY is not set' } });
      expect(byName.get('heartbeat')).toMatchObject({ catchUp: 'none', nextRunAt: '2026-01-02T21:30:00.000Z' });
      expect(slack.messages).toHaveLength(2);
      expect(await runsOf('ops-daily-summary')).toHaveLength(2);
    } finally {
      await service.stop();
    }
  }, 60_000);

  it('runNow runs a job at once, recorded as manual: the summary without a Slack webhook is skipped with its reason, the heartbeat succeeds', async () => {
    clock.set('2026-01-05T03:00:00Z');
    const service = await start({ SLACK_WEBHOOK_URL: '' });
    try {
      const summary = await service.scheduler!.runNow('ops-daily-summary', { by: 'operator' });
      expect(summary.outcome).toBe('started');
      expect(await (summary as { done: Promise<unknown> }).done).toMatchObject({
        outcome: 'skipped',
        reason: 'no Slack webhook (SLACK_WEBHOOK_URL is not set)',
        detail: { date: '2026-01-04' },
      });
      clock.advance(1000);
      const heartbeat = await service.scheduler!.runNow('heartbeat', { by: 'operator' });
      expect(await (heartbeat as { done: Promise<unknown> }).done).toMatchObject({ outcome: 'succeeded', detail: { failedPhases: [] } });
      const manual = await db.prisma.opsScheduleRun.findMany({ where: { cause: 'manual' }, orderBy: { id: 'asc' } });
      expect(manual.map((r) => [r.jobName, r.requestedBy, r.outcome, r.reason])).toEqual([
        ['ops-daily-summary', 'operator', 'skipped', 'no Slack webhook (SLACK_WEBHOOK_URL is not set)'],
        ['heartbeat', 'operator', 'succeeded', null],
      ]);
    } finally {
      await service.stop();
    }
  });
});

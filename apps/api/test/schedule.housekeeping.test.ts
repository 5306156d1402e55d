import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, loadConfig, silentLogger } from '@opsloop/core';
import { migrate, seed } from '@opsloop/db';
import { startService } from '@opsloop/api';
import { manualWakeTimers } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { API_TOKEN, HEARTBEAT_TOKEN } from '../../../test/app.ts';

let dir: string;
const dbs: TestDatabase[] = [];
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'opsloop-housekeeping-'));
});
afterAll(async () => {
  for (const db of dbs) await db.drop();
  await fs.rm(dir, { recursive: true, force: true });
});

function start(db: TestDatabase, clock: FakeClock, env: Record<string, string> = {}) {
  const config = loadConfig({
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    OPS_API_TOKEN: API_TOKEN,
    HEARTBEAT_TOKEN,
    WORKERS_ENABLED: 'false',
    SCHEDULE_FILE: 'schedule.yaml',
    BACKUP_DIR: dir,
    LOG_LEVEL: 'silent',
    ...env,
  });
  return startService(config, silentLogger(), { clock, schedulerTimers: manualWakeTimers() });
}

describe('backup and retention as scheduled jobs', () => {
  it('00:00 Tokyo: the backup runs, then the retention job records what it pruned; both show in the daily summary', async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    const clock = new FakeClock(new Date(Date.now() + 60_000));
    const service = await start(db, clock);
    try {
      const backup = await service.scheduler!.runNow('backup', { by: 'operator' });
      expect(await (backup as { done: Promise<unknown> }).done).toMatchObject({ outcome: 'succeeded', detail: { name: expect.stringMatching(/^opsloop-/), location: expect.stringContaining(dir) } });
      const retention = await service.scheduler!.runNow('retention', { by: 'operator' });
      expect(await (retention as { done: Promise<unknown> }).done).toMatchObject({ outcome: 'succeeded', detail: { pruned: { events: 0 } } });
      const res = await fetch(`${service.url}/api/ops/summary/daily`, { headers: { Authorization: `Bearer ${API_TOKEN}` } });
      const summary = (await res.json()) as { backups: { lastSuccessful: { destination: string } | null; succeeded: number }; retentionPruned: Record<string, number> };
      expect(summary.backups).toMatchObject({ succeeded: 1, lastSuccessful: { destination: 'local' } });
      expect(summary.retentionPruned).toMatchObject({ events: 0, step_runs: 0 });
    } finally {
      await service.stop();
    }
  });

  it('a scheduled backup on a service that is not ready (migrations not current) is recorded as skipped with the reason', async () => {
    const db = await createTestDatabase({ template: false });
    dbs.push(db);
    await migrate(db.url, { target: 6 });
    await seed(db.url).catch(() => undefined);
    const clock = new FakeClock(new Date());
    const service = await start(db, clock, { MIGRATE_ON_START: 'false' });
    try {
      expect((await fetch(`${service.url}/ready`)).status).toBe(503);
      const backup = await service.scheduler!.runNow('backup', { by: 'operator' });
      expect(await (backup as { done: Promise<unknown> }).done).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/^migrations not current \(database at 6, opsloop ships \d+\)$/) });
      const [row] = await db.prisma.opsScheduleRun.findMany({ where: { jobName: 'backup' } });
      expect(row).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/^migrations not current/) });
      expect(await fs.readdir(dir).then((names) => names.filter((n) => !n.startsWith('.')).length)).toBe(1); // only the first test's backup
    } finally {
      await service.stop();
    }
  });
});

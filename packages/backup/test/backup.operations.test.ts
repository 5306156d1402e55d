import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '@opsloop/core';
import { migrate, seed } from '@opsloop/db';
import { claimSteps, completeSteps, createProposal } from '@opsloop/ops';
import { databaseReadiness, localDestination, NotReadyError, restoreBackup, runBackup, s3Destination, type BackupDeps } from '@opsloop/backup';
import { startFakeS3, type FakeS3 } from '@opsloop/backup/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps } from '../../../test/app.ts';
import { digests, fillDatabase, silent, tempDir } from './helpers.ts';

const dbs: TestDatabase[] = [];
const fresh = async (template = true) => {
  const db = await createTestDatabase({ template });
  dbs.push(db);
  return db;
};
const dirs: string[] = [];
let s3: FakeS3;
beforeAll(async () => {
  s3 = await startFakeS3({ maxKeys: 5 }); // small pages: listing must follow continuation tokens
});
afterAll(async () => {
  await s3.close();
  for (const db of dbs) await db.drop();
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});
async function localDeps(db: TestDatabase, extra: Partial<BackupDeps> = {}): Promise<BackupDeps> {
  const dir = await tempDir();
  dirs.push(dir);
  return { pool: db.pool, clock: new FakeClock(new Date()), logger: silent, destination: localDestination(dir), readiness: databaseReadiness(db.pool), ...extra };
}

describe('a backup under concurrent load', () => {
  it('restores to a consistent state: every mission has all its steps, no event points at a missing mission', async () => {
    const source = await fresh();
    const ops = createOps(source, new FakeClock(new Date()));
    let stop = false;
    let written = 0;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        await createProposal(ops, { title: `load ${w}/${i}`, skill: 'ops_internal', steps: [1, 2, 3].map((n) => ({ kind: 'ops.noop', params: { note: String(n) } })) });
        const claimed = await claimSteps(ops, { workerId: `w${w}`, kinds: ['ops.noop'], max: 2, leaseSeconds: 60 });
        await completeSteps(ops, claimed.map((s) => ({ stepId: s.id, leaseToken: s.leaseToken })));
        written++;
      }
    };
    const writers = [1, 2, 3].map(writer);
    while (written < 30) await new Promise((r) => setImmediate(r));
    const deps = await localDeps(source);
    const result = await runBackup(deps, { triggeredBy: 'test', waitMs: 0, onNotReady: 'throw' });
    const writtenDuringBackup = written;
    stop = true;
    await Promise.all(writers);
    expect(result.status).toBe('succeeded');
    if (result.status !== 'succeeded') return;
    expect(written).toBeGreaterThan(30);

    const target = await fresh(false);
    await restoreBackup({ url: target.url, logger: silent }, { destination: deps.destination, name: result.name });
    const q = async (sql: string) => (await target.pool.query<{ n: number }>(sql)).rows[0]!.n;
    expect(await q(`SELECT count(*)::int AS n FROM ops_missions`)).toBeGreaterThanOrEqual(30);
    expect(await q(`SELECT count(*)::int AS n FROM ops_missions`)).toBeLessThanOrEqual(writtenDuringBackup + 3);
    expect(await q(`SELECT count(*)::int AS n FROM ops_missions m WHERE (SELECT count(*) FROM ops_mission_steps s WHERE s.mission_id = m.id) <> 3`)).toBe(0);
    expect(await q(`SELECT count(*)::int AS n FROM ops_events e WHERE e.mission_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ops_missions m WHERE m.id = e.mission_id)`)).toBe(0);
    expect(await q(`SELECT count(*)::int AS n FROM ops_step_runs r WHERE NOT EXISTS (SELECT 1 FROM ops_mission_steps s WHERE s.id = r.step_id)`)).toBe(0);
    expect(await q(`SELECT count(*)::int AS n FROM ops_proposals p WHERE p.status = 'approved' AND p.mission_id IS NULL`)).toBe(0);
  });
});

describe('retention of backups', () => {
  it('keeps exactly the 7 newest, deleting older ones only after a new one succeeded', async () => {
    const db = await fresh();
    const clock = new FakeClock('2026-03-01T15:00:00Z');
    const deps = await localDeps(db, { clock, keep: 7 });
    const names: string[] = [];
    for (let day = 0; day < 9; day++) {
      const r = await runBackup(deps, { triggeredBy: 'schedule', waitMs: 0, onNotReady: 'skip' });
      if (r.status === 'succeeded') names.push(r.name);
      clock.advance(86_400_000);
    }
    expect(await deps.destination.list()).toEqual(names.slice(2));

    // A failed backup deletes nothing.
    const failing = { ...deps, destination: { ...deps.destination, put: () => Promise.reject(new Error('disk full')) } };
    await expect(runBackup(failing, { triggeredBy: 'schedule', waitMs: 0, onNotReady: 'skip' })).rejects.toThrow('disk full');
    expect(await deps.destination.list()).toEqual(names.slice(2));
    const { rows } = await db.pool.query(`SELECT status, error FROM ops_backups ORDER BY id DESC LIMIT 1`);
    expect(rows[0]).toEqual({ status: 'failed', error: 'disk full' });
  });
});

describe('the readiness gate', () => {
  it('a backup started before migrations finish waits for them, then runs', async () => {
    const db = await fresh(false);
    const deps = await localDeps(db);
    const backup = runBackup(deps, { triggeredBy: 'api', waitMs: 30_000, onNotReady: 'throw' });
    let settled = false;
    void backup.finally(() => (settled = true));
    await migrate(db.url, { target: 3 });
    expect(settled).toBe(false);
    await migrate(db.url);
    await seed(db.url);
    const result = await backup;
    expect(result.status).toBe('succeeded');
  });

  it('scheduled: skipped with the reason; API: 503 after the wait', async () => {
    const db = await fresh(false);
    await migrate(db.url, { target: 3 });
    const deps = await localDeps(db);
    expect(await runBackup(deps, { triggeredBy: 'schedule', waitMs: 0, onNotReady: 'skip' })).toEqual({
      status: 'skipped',
      reason: expect.stringMatching(/^migrations not current \(database at 3, opsloop ships \d+\)$/),
    });
    const t0 = performance.now();
    const error = await runBackup(deps, { triggeredBy: 'api', waitMs: 300, onNotReady: 'throw' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotReadyError);
    expect(error).toMatchObject({ status: 503 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(await deps.destination.list()).toEqual([]);
  });
});

describe('S3-compatible destination', () => {
  it('uploads to the bucket, lists with continuation, prunes, and restores from it', async () => {
    const source = await fresh();
    await fillDatabase(source, 6);
    const destination = s3Destination({ bucket: s3.bucket, endpoint: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, prefix: 'prod/backups' });
    const clock = new FakeClock('2026-04-01T15:00:00Z');
    const deps: BackupDeps = { pool: source.pool, clock, logger: silent, destination, readiness: databaseReadiness(source.pool), keep: 2 };
    const names: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await runBackup(deps, { triggeredBy: 'test', waitMs: 0, onNotReady: 'throw' });
      if (r.status === 'succeeded') names.push(r.name);
      clock.advance(86_400_000);
    }
    expect(await destination.list()).toEqual(names.slice(1));
    expect([...s3.objects.keys()].some((k) => k.startsWith(`prod/backups/${names[0]}/`))).toBe(false);
    expect(s3.objects.has(`prod/backups/${names[2]}/manifest.json`)).toBe(true);
    expect(s3.objects.has(`prod/backups/${names[2]}/tables/ops_events.copy.gz`)).toBe(true);
    expect(s3.requests.some((r) => r.method === 'PUT')).toBe(true);

    const { ops_backups: _a, ...expected } = await digests(source);
    const target = await fresh(false);
    await restoreBackup({ url: target.url, logger: silent }, { destination, name: names[2]! });
    const { ops_backups: _b, ...got } = await digests(target);
    expect(got).toEqual(expected);
  });

  it('a wrong key is an error, not a silent success', async () => {
    const db = await fresh();
    const destination = s3Destination({ bucket: s3.bucket, endpoint: s3.endpoint, accessKeyId: 'WRONG', secretAccessKey: 'x' });
    await expect(runBackup({ pool: db.pool, clock: new FakeClock(new Date()), logger: silent, destination, readiness: async () => undefined }, { triggeredBy: 'test', waitMs: 0, onNotReady: 'throw' })).rejects.toThrow();
  });
});

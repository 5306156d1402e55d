import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '@opsloop/core';
import { latestMigrationVersion, migrate } from '@opsloop/db';
import { localDestination, restoreBackup, runBackup, databaseReadiness, readManifest, BackupError, type BackupDestination } from '@opsloop/backup';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { digests, fillDatabase, silent, tempDir } from './helpers.ts';

const dbs: TestDatabase[] = [];
const fresh = async (template = true) => {
  const db = await createTestDatabase({ template });
  dbs.push(db);
  return db;
};
let dir: string;
let destination: BackupDestination;
beforeAll(async () => {
  dir = await tempDir();
  destination = localDestination(dir);
});
afterAll(async () => {
  for (const db of dbs) await db.drop();
  await fs.rm(dir, { recursive: true, force: true });
});

function backupOf(db: TestDatabase, clock = new FakeClock(new Date())) {
  return runBackup(
    { pool: db.pool, clock, logger: silent, destination, readiness: databaseReadiness(db.pool), keep: 100 },
    { triggeredBy: 'test', waitMs: 0, onNotReady: 'throw' },
  );
}

describe('backup -> drop -> restore', () => {
  it('restores every table with equal rows and checksums into an empty database', async () => {
    const source = await fresh();
    await fillDatabase(source);
    const result = await backupOf(source);
    expect(result.status).toBe('succeeded');
    if (result.status !== 'succeeded') return;
    const manifest = await readManifest(destination, result.name);
    expect(manifest).toMatchObject({ schemaVersion: await latestMigrationVersion(), opsloopVersion: expect.any(String), durationMs: expect.any(Number) });
    expect(manifest.tables.find((t) => t.name === 'ops_missions')).toMatchObject({ rows: 20, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(await fs.stat(path.join(dir, result.name, 'tables', 'ops_events.copy.gz'))).toBeTruthy();

    // The backup's own ops_backups row is in the snapshot as `running`; compare the rest.
    const before = await digests(source);
    await source.drop();
    dbs.splice(dbs.indexOf(source), 1);

    const target = await fresh(false);
    const restored = await restoreBackup({ url: target.url, logger: silent }, { destination, name: result.name });
    expect(restored.migratedTo).toBe(await latestMigrationVersion());
    const { ops_backups: _b, ...restoredRest } = await digests(target);
    const { ops_backups: _a, ...beforeRest } = before;
    expect(restoredRest).toEqual(beforeRest);
    expect(Object.keys(beforeRest).length).toBeGreaterThan(10);
    // Sequences continue after the restored ids.
    const { rows } = await target.pool.query<{ id: string }>(`INSERT INTO ops_events (kind, source) VALUES ('x', 'test') RETURNING id`);
    const { rows: max } = await target.pool.query<{ m: string }>(`SELECT max(id) AS m FROM ops_events WHERE kind <> 'x'`);
    expect(BigInt(rows[0]!.id)).toBeGreaterThan(BigInt(max[0]!.m));
  });

  it('refuses a database with rows unless forced, then replaces its contents in one transaction', async () => {
    const source = await fresh();
    await fillDatabase(source, 4);
    const result = await backupOf(source);
    if (result.status !== 'succeeded') throw new Error('no backup');
    const { ops_backups: _a, ...expected } = await digests(source);

    const target = await fresh();
    await fillDatabase(target, 6);
    await expect(restoreBackup({ url: target.url, logger: silent }, { destination, name: result.name })).rejects.toThrow(/database is not empty \(\w+ has rows\)/);
    expect((await target.pool.query(`SELECT count(*)::int AS n FROM ops_missions`)).rows[0].n).toBe(6);

    await restoreBackup({ url: target.url, logger: silent }, { destination, name: result.name, force: true });
    const { ops_backups: _b, ...got } = await digests(target);
    expect(got).toEqual(expected);
  });

  it('rolls everything back when a file does not match its manifest', async () => {
    const source = await fresh();
    await fillDatabase(source, 4);
    const result = await backupOf(source);
    if (result.status !== 'succeeded') throw new Error('no backup');
    const manifestPath = path.join(dir, result.name, 'manifest.json');
    const manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
    manifest.tables.find((t: { name: string }) => t.name === 'ops_missions').sha256 = '0'.repeat(64);
    await fs.writeFile(manifestPath, JSON.stringify(manifest));

    const target = await fresh(false);
    await expect(restoreBackup({ url: target.url, logger: silent }, { destination, name: result.name })).rejects.toThrow(BackupError);
    expect((await target.pool.query(`SELECT count(*)::int AS n FROM ops_proposals`)).rows[0].n).toBe(0);
  });

  it('refuses a backup from a newer schema version', async () => {
    const source = await fresh();
    const result = await backupOf(source);
    if (result.status !== 'succeeded') throw new Error('no backup');
    const manifestPath = path.join(dir, result.name, 'manifest.json');
    const manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
    await fs.writeFile(manifestPath, JSON.stringify({ ...manifest, schemaVersion: 999 }));
    const target = await fresh(false);
    await expect(restoreBackup({ url: target.url, logger: silent }, { destination, name: result.name })).rejects.toThrow(/schema version 999; this opsloop knows up to/);
  });

  it('restores a backup of an older schema, then applies the newer migrations', async () => {
    const old = await fresh(false);
    await migrate(old.url, { target: 3 });
    await old.pool.query(`INSERT INTO ops_events (kind, source) SELECT 'old:event', 'test' FROM generate_series(1, 50)`);
    const result = await runBackup(
      { pool: old.pool, clock: new FakeClock(new Date()), logger: silent, destination, readiness: async () => undefined, keep: 100 },
      { triggeredBy: 'test', waitMs: 0, onNotReady: 'throw' },
    ).catch(async () => {
      // ops_backups does not exist at version 3: take the backup with the bare function.
      const { takeBackup, backupName } = await import('@opsloop/backup');
      const name = backupName(new Date());
      await takeBackup({ pool: old.pool, logger: silent }, { destination, name, now: () => new Date() });
      return { status: 'succeeded' as const, name };
    });
    const manifest = await readManifest(destination, result.status === 'succeeded' ? result.name : '');
    expect(manifest.schemaVersion).toBe(3);

    const target = await fresh(false);
    const restored = await restoreBackup({ url: target.url, logger: silent }, { destination, name: manifest.name });
    expect(restored).toMatchObject({ schemaVersion: 3, migratedTo: await latestMigrationVersion() });
    expect((await target.pool.query(`SELECT count(*)::int AS n FROM ops_events WHERE kind = 'old:event'`)).rows[0].n).toBe(50);
    expect((await target.pool.query(`SELECT count(*)::int AS n FROM ops_backups`)).rows[0].n).toBe(0);
    expect((await target.pool.query(`SELECT count(*)::int AS n FROM ops_policy`)).rows[0].n).toBeGreaterThan(5);
  });
});

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, FakeClock } from '@opsloop/core';
import { backupStatus, databaseReadiness, localDestination, runBackup } from '@opsloop/backup';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { noopProposal, startTestApp, type TestApp } from '../../../test/app.ts';
import { EXIT } from '../src/exitCodes.ts';
import { runCli, runCliJson } from './runCli.ts';

let source: TestDatabase;
let target: TestDatabase;
let app: TestApp;
let dir: string;
beforeAll(async () => {
  source = await createTestDatabase();
  target = await createTestDatabase({ template: false }); // empty: nothing migrated
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'opsloop-cli-backups-'));
  const clock = new FakeClock(new Date());
  const deps = { pool: source.pool, clock, logger: createLogger({ level: 'silent' }), destination: localDestination(dir), readiness: databaseReadiness(source.pool), keep: 7 };
  app = await startTestApp(source, {
    clock,
    backups: { run: (triggeredBy) => runBackup(deps, { triggeredBy, waitMs: 1000, onNotReady: 'throw' }), status: () => backupStatus(source.pool) },
  });
});
afterAll(async () => {
  await app?.close();
  await source?.drop();
  await target?.drop();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('opsloop backup | backups | restore', () => {
  it('backs up through the service, lists it, and restores it into an empty database with the same rows', async () => {
    expect((await app.api.post('/api/ops/proposal', noopProposal())).status).toBe(201);
    const taken = await runCliJson<{ name: string; status: string; totalRows: number }>(app.url, ['backup']);
    expect(taken).toMatchObject({ status: 'succeeded' });

    const listed = await runCli(app.url, ['backups']);
    expect(listed.code).toBe(EXIT.ok);
    expect(listed.out).toContain(`last successful backup: ${taken.name}`);

    const env = { DATABASE_URL: target.url, BACKUP_DIR: dir, LOG_LEVEL: 'silent' };
    const restored = await runCli(app.url, ['--json', 'restore', taken.name], env);
    expect(restored).toMatchObject({ code: EXIT.ok, err: '' });
    const count = async (db: TestDatabase, table: string) => (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
    for (const table of ['ops_proposals', 'ops_missions', 'ops_mission_steps', 'ops_events', 'ops_policy']) {
      expect(await count(target, table), table).toBe(await count(source, table));
    }

    // A second restore into the now non-empty database is refused unless forced.
    const refused = await runCli(app.url, ['restore', taken.name], env);
    expect(refused.code).not.toBe(EXIT.ok);
    expect(refused.err).toMatch(/not empty/);
    const forced = await runCli(app.url, ['restore', taken.name, '--force'], env);
    expect(forced.code).toBe(EXIT.ok);
  });
});

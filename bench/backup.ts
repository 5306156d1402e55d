// npm run bench:backup -- [events=1000000]
// A database with N events (and 10k missions with steps, runs and their events), then
// one backup to a local directory and one restore into an empty database, verified.
// Prints JSON: time, size and rows.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { silentLogger, systemClock } from '@opsloop/core';
import { localDestination, restoreBackup, runBackup } from '@opsloop/backup';
import { benchDatabase } from './db.ts';

const events = Number(process.argv[2] ?? 1_000_000);
const { db, url, close } = await benchDatabase(4);
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'opsloop-bench-backup-'));
const t0 = performance.now();
await db.pool.query(
  `INSERT INTO ops_events (kind, source, payload, tags, created_at)
   SELECT 'bench:k' || (i % 50), 'bench', jsonb_build_object('score', i % 100, 'note', md5(i::text)), '{bench}', now() - make_interval(secs => random() * 604800)
   FROM generate_series(1, $1) i`,
  [events],
);
await db.pool.query(`INSERT INTO ops_proposals (source, skill, title, steps, status) SELECT 'api', 'ops_internal', 'p' || i, '[{"kind":"ops.noop","params":{}}]', 'approved' FROM generate_series(1, 10000) i`);
await db.pool.query(`INSERT INTO ops_missions (proposal_id, title, skill, status, trace_id) SELECT id, title, skill, 'succeeded', trace_id FROM ops_proposals`);
await db.pool.query(`INSERT INTO ops_mission_steps (mission_id, position, kind, skill, status, trace_id) SELECT id, 0, 'ops.noop', skill, 'succeeded', trace_id FROM ops_missions`);
await db.pool.query(`INSERT INTO ops_step_runs (step_id, mission_id, attempt, kind, worker_id, lease_token, outcome) SELECT id, mission_id, 1, kind, 'w', gen_random_uuid(), 'succeeded' FROM ops_mission_steps`);
const loadSeconds = (performance.now() - t0) / 1000;

const destination = localDestination(dir);
const b0 = performance.now();
const backup = await runBackup({ pool: db.pool, clock: systemClock, logger: silentLogger(), destination, readiness: async () => undefined }, { triggeredBy: 'bench', waitMs: 0, onNotReady: 'throw' });
const backupSeconds = (performance.now() - b0) / 1000;
if (backup.status !== 'succeeded') throw new Error('backup skipped');

const u = new URL(url);
const target = `${u.pathname.slice(1)}_restore`;
const admin = new URL(url);
admin.pathname = '/postgres';
const run = async (sql: string) => {
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  await c.query(sql);
  await c.end();
};
await run(`CREATE DATABASE ${target}`);
u.pathname = `/${target}`;
const r0 = performance.now();
const restored = await restoreBackup({ url: u.toString(), logger: silentLogger() }, { destination, name: backup.name });
const restoreSeconds = (performance.now() - r0) / 1000;
await run(`DROP DATABASE ${target} WITH (FORCE)`);
await fs.rm(dir, { recursive: true, force: true });
await close();

const r = (n: number) => Math.round(n * 100) / 100;
process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'backup',
      events,
      totalRows: backup.manifest.totalRows,
      loadSeconds: r(loadSeconds),
      backupSeconds: r(backupSeconds),
      backupMB: r(backup.sizeBytes / 1048576),
      restoreSeconds: r(restoreSeconds),
      restoreVerifiedTables: restored.tables.length,
    },
    null,
    2,
  )}\n`,
);

import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeClock } from '@opsloop/core';
import { dailySummary } from '@opsloop/ops';
import { createProposal } from './helpers.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps } from '../../../test/app.ts';

/**
 * The console's overview asks for the daily summary on every refresh, and steps are never
 * pruned: today's figures must be read through indexes, not by scanning months of history.
 * One connection runs everything, so the scan counters it flushes are complete; autovacuum
 * is off on the tables and nothing is analyzed. Counters, not timings.
 */
const TABLES = ['ops_proposals', 'ops_missions', 'ops_mission_steps', 'ops_step_runs', 'ops_events'];
const HISTORY = 20_000;
const NOW = new Date('2026-12-07T03:00:00Z'); // 12:00 in Tokyo, the summary's time zone here

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 1 });
});
afterAll(async () => {
  await db?.drop();
});

async function seqScans(): Promise<Record<string, number>> {
  await db.pool.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await db.pool.query<{ relname: string; seq_scan: string }>(`SELECT relname, seq_scan FROM pg_stat_user_tables WHERE relname = ANY($1)`, [TABLES]);
  return Object.fromEntries(rows.map((r) => [r.relname, Number(r.seq_scan)]));
}

it("counts the day's proposals, missions, steps, events and failed runs by index, with weeks of history and no statistics", async () => {
  for (const table of TABLES) await db.pool.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
  const ops = createOps(db, new FakeClock(NOW));
  // Today: two missions of two steps each (one waiting), one of them failed on its first step.
  for (const title of ['a', 'b']) {
    await createProposal(ops, { title, skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }, { kind: 'ops.noop', params: {} }] });
  }
  await db.pool.query(`UPDATE ops_mission_steps SET status = 'failed' WHERE position = 0 AND mission_id = (SELECT id FROM ops_missions WHERE title = 'a')`);
  const today = await dailySummary(ops);
  expect(today.steps).toEqual({ failed: 1, queued: 1, waiting: 2 });

  // One mission of two steps a minute, back from yesterday: about two weeks.
  await db.pool.query(
    `WITH p AS (
       INSERT INTO ops_proposals (source, skill, title, steps, status, created_at)
       SELECT 'api', 'ops_internal', 'history ' || g, '[]', 'approved', $2::timestamptz - interval '1 day' - make_interval(mins => g) FROM generate_series(1, $1::int) g
       RETURNING id, trace_id, created_at
     ), m AS (
       INSERT INTO ops_missions (proposal_id, title, skill, status, trace_id, created_at)
       SELECT id, 'history', 'ops_internal', 'succeeded', trace_id, created_at FROM p RETURNING id, trace_id, created_at
     ), s AS (
       INSERT INTO ops_mission_steps (mission_id, position, kind, skill, status, trace_id, created_at)
       SELECT id, pos, 'ops.noop', 'ops_internal', 'succeeded', trace_id, created_at FROM m, generate_series(0, 1) pos
       RETURNING id, mission_id, kind, trace_id, created_at
     ), r AS (
       INSERT INTO ops_step_runs (step_id, mission_id, attempt, kind, worker_id, lease_token, started_at, finished_at, outcome)
       SELECT id, mission_id, 1, kind, 'history', gen_random_uuid(), created_at, created_at, 'failed' FROM s
     )
     INSERT INTO ops_events (kind, source, mission_id, step_id, trace_id, created_at)
     SELECT 'step:succeeded', 'workers', mission_id, id, trace_id, created_at FROM s`,
    [HISTORY, NOW],
  );

  const before = await seqScans();
  const again = await dailySummary(ops);
  const after = await seqScans();
  expect(Object.fromEntries(TABLES.map((t) => [t, after[t]! - before[t]!]))).toEqual(Object.fromEntries(TABLES.map((t) => [t, 0])));
  // The same day's figures: the history is all before it.
  expect(again.steps).toEqual(today.steps);
  expect(again.missions).toEqual(today.missions);
  expect(again.topFailingStepKinds).toEqual([]);
  // And yesterday's, read the same way, count the history's steps of that day.
  const yesterday = await dailySummary(ops, '2026-12-06');
  expect((yesterday.steps as Record<string, number>).succeeded).toBeGreaterThan(0);
  expect(yesterday.steps).toEqual(
    Object.fromEntries(
      (
        await db.pool.query<{ status: string; n: number }>(
          `SELECT status, count(*)::int AS n FROM ops_mission_steps WHERE created_at >= '2026-12-06T00:00:00+09' AND created_at < '2026-12-07T00:00:00+09' GROUP BY status`,
        )
      ).rows.map((r) => [r.status, r.n]),
    ),
  );
});

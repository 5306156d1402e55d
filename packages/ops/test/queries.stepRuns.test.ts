import { afterAll, beforeAll, expect, it } from 'vitest';
import { listStepRuns } from '../src/queries/stepRuns.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';

/**
 * A mission's runs are read through its steps' index, never by reading every run: runs
 * are not indexed by mission. Counted with the table's scan statistics, not timed.
 */
let db: TestDatabase;
beforeAll(async () => {
  // One connection: the statistics this session flushes are the query's own.
  db = await createTestDatabase({ poolSize: 1 });
});
afterAll(async () => {
  await db?.drop();
});

it("lists a mission's runs, oldest first, without a sequential scan of ops_step_runs", async () => {
  // 2,000 missions of 2 steps with 2 runs each, analyzed: a table the planner would not
  // read whole for a handful of rows if an index can find them.
  await db.pool.query(`
    WITH p AS (
      INSERT INTO ops_proposals (source, skill, title, steps, status)
      SELECT 'api', 'ops_internal', 'runs ' || g, '[]', 'approved' FROM generate_series(1, 2000) g RETURNING id, trace_id
    ), m AS (
      INSERT INTO ops_missions (proposal_id, title, skill, status, trace_id) SELECT id, 'runs', 'ops_internal', 'succeeded', trace_id FROM p RETURNING id, trace_id
    ), s AS (
      INSERT INTO ops_mission_steps (mission_id, position, kind, skill, status, trace_id)
      SELECT id, pos, 'ops.noop', 'ops_internal', 'succeeded', trace_id FROM m, generate_series(0, 1) pos RETURNING id, mission_id, kind
    )
    INSERT INTO ops_step_runs (step_id, mission_id, attempt, kind, worker_id, lease_token, started_at, outcome)
    SELECT s.id, s.mission_id, a, s.kind, 'w', gen_random_uuid(), now() - make_interval(mins => 10 - a), 'succeeded' FROM s, generate_series(1, 2) a`);
  await db.pool.query('ANALYZE ops_step_runs, ops_mission_steps, ops_missions');
  const { rows } = await db.pool.query<{ id: string }>(`SELECT id FROM ops_missions ORDER BY id LIMIT 1`);
  const missionId = rows[0]!.id;

  const scans = async () => {
    // Flushed before this session answers: the counters include everything it ran.
    await db.pool.query('SELECT pg_stat_force_next_flush()');
    const { rows: r } = await db.pool.query<{ seq: string; idx: string }>(
      `SELECT seq_scan AS seq, coalesce(idx_scan, 0) AS idx FROM pg_stat_user_tables WHERE relname = 'ops_step_runs'`,
    );
    return { seq: Number(r[0]!.seq), idx: Number(r[0]!.idx) };
  };
  const before = await scans();
  const runs = await listStepRuns(db.prisma, missionId);
  const after = await scans();

  expect(runs).toHaveLength(4);
  expect(runs.map((r) => r.attempt)).toEqual([1, 1, 2, 2]);
  expect(after.seq - before.seq).toBe(0);
  expect(after.idx - before.idx).toBeGreaterThan(0);
});

import type pg from 'pg';

/**
 * A finished history written in bulk (never analyzed): `missions` approved proposals, one
 * a minute back from `before`, each with a mission of two steps, a run per step and a
 * `step:succeeded` event per step. For tests of what months of running do to plans.
 */
export async function insertHistory(pool: pg.Pool, o: { missions: number; before: Date | 'now'; runOutcome?: 'succeeded' | 'failed' }): Promise<void> {
  await pool.query(
    `WITH p AS (
       INSERT INTO ops_proposals (source, skill, title, steps, status, created_at)
       SELECT 'api', 'ops_internal', 'history ' || g, '[]', 'approved', coalesce($2::timestamptz, now()) - make_interval(mins => g) FROM generate_series(1, $1::int) g
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
       SELECT id, mission_id, 1, kind, 'history', gen_random_uuid(), created_at, created_at, $3 FROM s
     )
     INSERT INTO ops_events (kind, source, mission_id, step_id, trace_id, created_at)
     SELECT 'step:succeeded', 'workers', mission_id, id, trace_id, created_at FROM s`,
    [o.missions, o.before === 'now' ? null : o.before, o.runOutcome ?? 'succeeded'],
  );
}

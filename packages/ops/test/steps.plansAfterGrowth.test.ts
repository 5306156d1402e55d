import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeClock } from '@opsloop/core';
import { claimSteps, completeSteps, createProposal } from './helpers.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps } from '../../../test/app.ts';
import { insertHistory } from '../../../test/history.ts';

/**
 * The hot paths run as named prepared statements, and each connection keeps the generic
 * plan it makes after a few executions until something invalidates it (an ANALYZE, DDL).
 * A new deployment makes those plans on empty tables; they must still find rows through
 * indexes when the tables hold a history. One connection runs every statement here,
 * autovacuum is off on the tables (nothing analyzes or invalidates behind our back), and
 * the tables' scan statistics say what the last cycle read: no timings.
 */
const TABLES = ['ops_proposals', 'ops_missions', 'ops_mission_steps', 'ops_step_runs', 'ops_events'];
const HISTORY = 20_000;
const BACKLOG = 5_000;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 1 });
});
afterAll(async () => {
  await db?.drop();
});

/**
 * The indexes a cycle may read: lookups by key, and three whose range is the work itself,
 * never the history or the backlog: the queue's front (the pick), the running steps (a
 * completion finds its steps among them) and today's steps of a kind with a quota (the
 * quota's count).
 */
const LOOKUPS = [
  'ops_proposals_pkey',
  'ops_proposals_dedupe_key_key',
  'ops_missions_pkey',
  'ops_mission_steps_pkey',
  'ops_mission_steps_mission_position_key',
  'ops_step_runs_lease_token_key',
  'ops_mission_steps_queue_idx',
  'ops_mission_steps_lease_idx',
  'ops_mission_steps_kind_created_idx',
];

/** Sequential scans per table and scans per index, so far. */
async function scans(): Promise<{ seq: Record<string, number>; index: Record<string, number> }> {
  // Flushed before this session answers: the counters include everything it ran.
  await db.pool.query('SELECT pg_stat_force_next_flush()');
  const tables = await db.pool.query<{ relname: string; seq_scan: string }>(`SELECT relname, seq_scan FROM pg_stat_user_tables WHERE relname = ANY($1)`, [TABLES]);
  const indexes = await db.pool.query<{ indexrelname: string; idx_scan: string }>(
    `SELECT indexrelname, idx_scan FROM pg_stat_user_indexes WHERE relname = ANY($1)`,
    [TABLES],
  );
  return {
    seq: Object.fromEntries(tables.rows.map((r) => [r.relname, Number(r.seq_scan)])),
    index: Object.fromEntries(indexes.rows.map((r) => [r.indexrelname, Number(r.idx_scan)])),
  };
}

it('intake (with a daily quota), claim and completion plans made on empty tables read by key, not by scans of the history or the backlog, once the tables hold both', async () => {
  for (const table of TABLES) await db.pool.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
  // A quota on the kind: intake also takes the quota lock and counts the day's steps.
  await db.pool.query(`UPDATE ops_policy SET value = '{"ops.noop": 1000000}' WHERE key = 'daily_quotas'`);
  const ops = createOps(db, new FakeClock('2026-12-07T01:00:00Z'));

  const cycle = async (i: number) => {
    const created = await createProposal(ops, { title: `cycle ${i}`, skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }, { kind: 'ops.noop', params: {} }] });
    expect(created.proposal.status).toBe('approved');
    for (let s = 0; s < 2; s++) {
      const [step] = await claimSteps(ops, { workerId: 'plans', kinds: ['ops.noop'], max: 1, leaseSeconds: 60 });
      expect(step).toBeDefined();
      const [done] = await completeSteps(ops, [{ stepId: step!.id, leaseToken: step!.leaseToken, result: null }]);
      expect(done!.ok).toBe(true);
    }
  };
  // Well past the five executions after which PostgreSQL may settle on a generic plan.
  for (let i = 0; i < 10; i++) await cycle(i);

  // A history and a backlog, written in bulk and never analyzed: finished missions of two
  // steps, each with a run, and their events; queued missions of a kind nobody claims here.
  await db.pool.query(
    `WITH p AS (
       INSERT INTO ops_proposals (source, skill, title, steps, status)
       SELECT 'api', 'ops_internal', 'backlog ' || g, '[]', 'approved' FROM generate_series(1, $1::int) g RETURNING id, trace_id
     ), m AS (
       INSERT INTO ops_missions (proposal_id, title, skill, status, trace_id) SELECT id, 'backlog', 'ops_internal', 'queued', trace_id FROM p
       RETURNING id, trace_id
     )
     INSERT INTO ops_mission_steps (mission_id, position, kind, skill, status, trace_id)
     SELECT id, 0, 'ops.backlog', 'ops_internal', 'queued', trace_id FROM m`,
    [BACKLOG],
  );
  await insertHistory(db.pool, { missions: HISTORY, before: 'now' });

  const before = await scans();
  await cycle(10);
  const after = await scans();
  expect(Object.fromEntries(TABLES.map((t) => [t, after.seq[t]! - before.seq[t]!]))).toEqual(Object.fromEntries(TABLES.map((t) => [t, 0])));
  const read = Object.keys(after.index).filter((name) => after.index[name]! > before.index[name]!);
  expect(read.filter((name) => !LOOKUPS.includes(name))).toEqual([]);
  // The cycle did read through indexes: the counters are live.
  expect(read).toContain('ops_mission_steps_queue_idx');
});

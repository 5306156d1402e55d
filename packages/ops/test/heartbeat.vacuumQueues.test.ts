import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { silentLogger } from '@opsloop/core';
import { vacuumQueues } from '../src/heartbeat/vacuumQueues.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';

/**
 * Steps that left the queue leave dead entries at the front of the claim's index; the
 * claim reads past them until a VACUUM. Structural assertions (pages read, statistics),
 * never timings.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 3 });
  // This test's database only: nothing vacuums behind its back.
  await db.pool.query(`ALTER TABLE ops_mission_steps SET (autovacuum_enabled = false)`);
});
afterAll(async () => {
  await db?.drop();
});

const BURST = 5000;

/** Index pages the claim's pick reads to find the one queued step. */
async function pagesReadByPick(): Promise<number> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    // The first call in a session also reads the catalogs to plan the function's statement.
    await client.query(`SELECT id FROM opsloop_pick_steps('{ops.noop}', now() + interval '1 hour', 1)`);
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: { 'Shared Hit Blocks': number; 'Shared Read Blocks': number } }] }>(
      `EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) SELECT id FROM opsloop_pick_steps('{ops.noop}', now() + interval '1 hour', 1)`,
    );
    // The function's own statement is not in the plan; its buffers are counted in the
    // Function Scan's.
    const plan = rows[0]!['QUERY PLAN'][0].Plan;
    return plan['Shared Hit Blocks'] + plan['Shared Read Blocks'];
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

it('after a burst of finished steps, the queue is vacuumed once its dead rows reach the threshold, and the claim reads a few pages again', async () => {
  // A burst: BURST single-step missions queued, then all finished, plus one still queued.
  const writer = await db.pool.connect();
  try {
    await writer.query(`
      WITH p AS (
        INSERT INTO ops_proposals (source, skill, title, steps, status)
        SELECT 'api', 'ops_internal', 'burst ' || g, '[]', 'approved' FROM generate_series(1, $1::int + 1) g RETURNING id, trace_id
      ), m AS (
        INSERT INTO ops_missions (proposal_id, title, skill, status, trace_id) SELECT id, 'burst', 'ops_internal', 'queued', trace_id FROM p RETURNING id, trace_id
      )
      INSERT INTO ops_mission_steps (mission_id, position, kind, skill, status, run_after, trace_id)
      SELECT id, 0, 'ops.noop', 'ops_internal', 'queued', now() - interval '1 hour', trace_id FROM m`, [BURST]);
    await writer.query(`UPDATE ops_mission_steps SET status = 'succeeded' WHERE id IN (SELECT id FROM ops_mission_steps ORDER BY run_after, id LIMIT $1)`, [BURST]);
    // A session flushes its statistics to pg_stat_user_tables at most once a second unless
    // asked; asked, before it answers.
    await writer.query('SELECT pg_stat_force_next_flush()');
  } finally {
    writer.release();
  }

  const before = await pagesReadByPick();
  expect(before).toBeGreaterThan(20);

  // Below the threshold: counted, left alone.
  const stats = await db.pool.query<{ dead: number }>(`SELECT n_dead_tup::int AS dead FROM pg_stat_user_tables WHERE relname = 'ops_mission_steps'`);
  const counted = stats.rows[0]!.dead;
  expect(counted).toBeGreaterThanOrEqual(BURST);
  const below = await vacuumQueues({ pool: db.pool, logger: silentLogger() }, { deadRows: counted + 1 });
  expect(below).toEqual({ deadRows: expect.objectContaining({ ops_mission_steps: counted }), vacuumed: [] });

  const done = await vacuumQueues({ pool: db.pool, logger: silentLogger() }, { deadRows: BURST });
  expect(done.vacuumed).toEqual(['ops_mission_steps']);
  const after = await pagesReadByPick();
  expect(after).toBeLessThan(10);
  const queued = await db.pool.query(`SELECT count(*)::int AS n FROM ops_mission_steps WHERE status = 'queued'`);
  expect(queued.rows[0].n).toBe(1);
  // The pooled connection it used came back with the default timeout.
  const timeouts = await Promise.all([1, 2, 3].map(async () => (await db.pool.query(`SHOW statement_timeout`)).rows[0].statement_timeout));
  expect(timeouts).toEqual(['0', '0', '0']);
});

it('a table PostgreSQL skips (another VACUUM holds it, or this role may not vacuum it) is reported as skipped, with the reason, not as vacuumed', async () => {
  // Another session holds the lock a VACUUM needs on ops_reactions.
  const holder = await db.pool.connect();
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE ops_reactions IN SHARE UPDATE EXCLUSIVE MODE');
  try {
    const locked = await vacuumQueues({ pool: db.pool, logger: silentLogger() }, { deadRows: 0 });
    expect(locked.vacuumed).toEqual(['ops_mission_steps']);
    expect(locked.skipped).toEqual({ ops_reactions: expect.stringContaining('lock not available') });
  } finally {
    await holder.query('ROLLBACK');
    holder.release();
  }

  const role = `opsloop_not_owner_${Math.random().toString(36).slice(2, 10)}`;
  await db.pool.query(`CREATE ROLE ${role}`);
  // The role as a startup setting: a query sent from the pool's 'connect' event is still
  // running when the pool hands the client out (pg deprecates queueing behind it).
  const asRole = new pg.Pool({ connectionString: db.url, max: 1, options: `-c role=${role}` });
  try {
    const denied = await vacuumQueues({ pool: asRole, logger: silentLogger() }, { deadRows: 0 });
    expect(denied.vacuumed).toEqual([]);
    expect(Object.keys(denied.skipped ?? {})).toEqual(['ops_mission_steps', 'ops_reactions']);
  } finally {
    await asRole.end();
    await db.pool.query(`DROP ROLE ${role}`);
  }
});

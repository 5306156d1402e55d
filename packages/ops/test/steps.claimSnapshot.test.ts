import { afterAll, beforeAll, expect, it } from 'vitest';
import { systemClock } from '@opsloop/core';
import { claimBatch, createProposal } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps } from '../../../test/app.ts';

/**
 * The pick (`opsloop_pick_steps`) is VOLATILE, so under READ COMMITTED it reads with a
 * snapshot of its own, newer than the claim statement's. A step committed between the
 * two is picked and locked, but the claim's UPDATE cannot see it and leaves it queued;
 * its NOTIFY may have woken a peer that skipped it because of that very lock. The claim
 * must then say steps were left behind, so the worker claims again at once instead of
 * leaving the step to the poll.
 *
 * The step must also be due by the claim's clock: the claim passes its own `now`, and a
 * step's run_after is the enqueuing process's time, here taken after the claim read its
 * clock. Replicas whose clocks differ make that happen in production; the claim here runs
 * on a clock one minute ahead.
 *
 * The window is forced, not hoped for: in this throwaway database the pick is wrapped
 * in a function that first waits for an advisory lock the test holds.
 */

const GATE = 4242;
let db: TestDatabase;
let ops: ReturnType<typeof createOps>;

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 4 });
  ops = createOps(db, systemClock);
  await db.pool.query(`ALTER FUNCTION opsloop_pick_steps(text[], timestamptz, integer) RENAME TO opsloop_pick_steps_real`);
  await db.pool.query(`
    CREATE FUNCTION opsloop_pick_steps(p_kinds text[], p_now timestamptz, p_max integer) RETURNS TABLE (id uuid)
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_advisory_xact_lock(${GATE});
      RETURN QUERY SELECT r.id FROM opsloop_pick_steps_real(p_kinds, p_now, p_max) r;
    END $$`);
});
afterAll(async () => {
  await db?.drop();
});

it('a step committed after the claim statement began but picked by it is reported as left behind, then claimed', async () => {
  // A step already running: on an empty table the claim's UPDATE scans nothing, so the
  // old statement never evaluated the pick and the window could not be reached.
  await createProposal(ops, { title: 'already running', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }] });
  expect((await claimBatch(ops, { workerId: 'w-snapshot', kinds: ['ops.noop'], max: 5, leaseSeconds: 60 })).steps).toHaveLength(1);

  const aheadByAMinute = { ...ops, clock: { now: () => new Date(Date.now() + 60_000) } };
  const gate = await db.pool.connect();
  try {
    await gate.query('BEGIN');
    await gate.query('SELECT pg_advisory_xact_lock($1)', [GATE]);
    // The claim takes its snapshot, then waits at the gate inside the pick.
    const claim = claimBatch(aheadByAMinute, { workerId: 'w-snapshot', kinds: ['ops.noop'], max: 5, leaseSeconds: 60 });
    await waitUntil(async () => (await db.pool.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND objid = $1 AND NOT granted`, [GATE])).rowCount === 1);
    await createProposal(ops, { title: 'committed mid-claim', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }] });
    await gate.query('COMMIT');

    const first = await claim;
    expect(first.steps).toEqual([]);
    expect(first.more).toBe(true);

    const second = await claimBatch(ops, { workerId: 'w-snapshot', kinds: ['ops.noop'], max: 5, leaseSeconds: 60 });
    expect(second.steps.map((s) => s.kind)).toEqual(['ops.noop']);
    expect(second.more).toBe(false);
  } finally {
    await gate.query('ROLLBACK').catch(() => {});
    gate.release();
  }
});

/** Polls a condition (each check is a query, so no core is kept busy). */
async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
  }
}

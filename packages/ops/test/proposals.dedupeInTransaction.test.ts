import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '@opsloop/core';
import { createProposal } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps } from '../../../test/app.ts';

/**
 * The one-statement intake inside a caller's transaction: `ON CONFLICT (dedupe_key) DO
 * NOTHING` must neither abort the caller's transaction on a hit nor decide before the
 * transaction holding the key has ended.
 */

let db: TestDatabase;
let ops: ReturnType<typeof createOps>;
beforeAll(async () => {
  db = await createTestDatabase();
  ops = createOps(db, systemClock);
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.pool.query(`TRUNCATE ops_proposals, ops_missions, ops_mission_steps, ops_step_runs, ops_events CASCADE`);
});

const input = (dedupeKey: string) => ({ title: 'dedupe', skill: 'ops_internal', dedupeKey, steps: [{ kind: 'ops.noop', params: {} }] });
const counts = async () => ({
  proposals: await db.prisma.opsProposal.count(),
  missions: await db.prisma.opsMission.count(),
  steps: await db.prisma.opsMissionStep.count(),
  created: await db.prisma.opsEvent.count({ where: { kind: 'proposal:created' } }),
});

/** Waits (with a deadline) until a statement other than ours waits on a lock. */
const aStatementWaitsOnALock = () =>
  expect
    .poll(
      async () =>
        (await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%ON CONFLICT (dedupe_key)%'`))
          .rowCount,
      { timeout: 10_000 },
    )
    .toBe(1);

describe('dedupe inside a caller transaction', () => {
  it("a hit answers with the existing proposal and does not abort the caller's transaction", async () => {
    const result = await db.prisma.$transaction(async (tx) => {
      const first = await createProposal(ops, input('k1'), tx);
      const again = await createProposal(ops, input('k1'), tx);
      // Still usable after the hit: the transaction was not aborted.
      await tx.opsEvent.create({ data: { kind: 'test:after_hit', source: 'test' } });
      return { first, again };
    });
    expect(result.first.created).toBe(true);
    expect(result.again).toMatchObject({ created: false, proposal: { id: result.first.proposal.id } });
    expect(await counts()).toEqual({ proposals: 1, missions: 1, steps: 1, created: 1 });
    expect(await db.prisma.opsEvent.count({ where: { kind: 'test:after_hit' } })).toBe(1);
  });

  for (const ending of ['commits', 'rolls back'] as const) {
    it(`a concurrent proposal with the key waits for the transaction holding it, which then ${ending}`, async () => {
      let end!: () => void;
      const ended = new Promise<void>((resolve) => (end = resolve));
      let inserted!: () => void;
      const insertedInTx = new Promise<void>((resolve) => (inserted = resolve));
      const holder = db.prisma
        .$transaction(
          async (tx) => {
            const held = await createProposal(ops, input('k2'), tx);
            inserted();
            await ended;
            if (ending === 'rolls back') throw new Error('caller gives up');
            return held;
          },
          { timeout: 30_000 },
        )
        .then(
          (held) => held,
          (error: Error) => error,
        );
      await insertedInTx;
      expect(await db.prisma.opsProposal.count()).toBe(0); // not visible outside it yet

      const contender = createProposal(ops, input('k2'));
      await aStatementWaitsOnALock();
      end();
      const [held, outcome] = await Promise.all([holder, contender]);

      if (ending === 'commits') {
        expect(held).not.toBeInstanceOf(Error);
        expect(outcome).toMatchObject({ created: false, proposal: { id: (held as Awaited<ReturnType<typeof createProposal>>).proposal.id } });
      } else {
        expect(held).toBeInstanceOf(Error);
        expect(outcome.created).toBe(true);
        expect(outcome.proposal.missionId).toBeTruthy();
      }
      expect(await counts()).toEqual({ proposals: 1, missions: 1, steps: 1, created: 1 });
    });
  }
});

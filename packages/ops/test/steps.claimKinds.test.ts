import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeClock } from '@opsloop/core';
import { claimSteps, createProposal } from './helpers.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps } from '../../../test/app.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

it('a kind named twice claims as many distinct steps as asked, not the same step twice', async () => {
  const ops = createOps(db, new FakeClock('2026-12-06T10:00:00Z'));
  for (let i = 0; i < 3; i++) await createProposal(ops, { title: `dup ${i}`, skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }] });

  const claimed = await claimSteps(ops, { workerId: 'w1', kinds: ['ops.noop', 'ops.noop'], max: 3, leaseSeconds: 60 });

  expect(new Set(claimed.map((s) => s.id)).size).toBe(3);
  const runs = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ops_step_runs`);
  expect(runs.rows[0]!.n).toBe(3);
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '@opsloop/core';
import { claimSteps, completeStep, createProposal, failStep, finaliseMission, inTransactionForTests, recoverStaleSteps } from './helpers.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps } from '../../../test/app.ts';

let db: TestDatabase;
let clock: FakeClock;
let ops: ReturnType<typeof createOps>;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  clock = new FakeClock('2026-11-23T01:00:00Z');
  // random = 0.5: backoff is exactly 3/4 of the exponential ceiling.
  ops = createOps(db, clock, [], () => 0.5);
});

const claim = (workerId = 'w1') => claimSteps(ops, { workerId, kinds: ['ops.noop'], max: 10, leaseSeconds: 60 });

async function mission(steps = 2) {
  const { proposal } = await createProposal(ops, {
    title: 'retry me',
    skill: 'ops_internal',
    steps: Array.from({ length: steps }, (_, i) => ({ kind: 'ops.noop', params: { note: `s${i}` } })),
  });
  return proposal!.missionId!;
}

describe('retries, backoff and finalisation (fake clock)', () => {
  it('retries with exponential backoff, then fails the step, cancels later steps and fails the mission', async () => {
    const missionId = await mission(2);
    // step_defaults: base 10 s, 3 attempts; with random 0.5 the delays are 7.5 s and 15 s.
    let [step] = await claim();
    let failed = await failStep(ops, { stepId: step!.id, leaseToken: step!.leaseToken, error: 'boom 1' });
    expect(failed.status).toBe('queued');
    expect(failed.retryAt!.getTime() - clock.now().getTime()).toBe(7_500);
    expect(await claim()).toEqual([]); // not due yet

    clock.advance(7_500);
    [step] = await claim();
    expect(step!.attempt).toBe(2);
    failed = await failStep(ops, { stepId: step!.id, leaseToken: step!.leaseToken, error: 'boom 2' });
    expect(failed.retryAt!.getTime() - clock.now().getTime()).toBe(15_000);

    clock.advance(14_999);
    expect(await claim()).toEqual([]);
    clock.advance(1);
    [step] = await claim();
    expect(step!.attempt).toBe(3);
    failed = await failStep(ops, { stepId: step!.id, leaseToken: step!.leaseToken, error: 'boom 3' });
    expect(failed).toMatchObject({ status: 'failed', retryAt: null, mission: 'failed' });

    const steps = await db.prisma.opsMissionStep.findMany({ where: { missionId }, orderBy: { position: 'asc' } });
    expect(steps.map((s) => s.status)).toEqual(['failed', 'cancelled']);
    expect(steps[0]!.error).toBe('boom 3');
    const m = await db.prisma.opsMission.findUniqueOrThrow({ where: { id: missionId } });
    expect(m).toMatchObject({ status: 'failed', finishedAt: clock.now() });
    const runs = await db.prisma.opsStepRun.findMany({ where: { stepId: step!.id }, orderBy: { attempt: 'asc' } });
    expect(runs.map((r) => [r.attempt, r.outcome])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
    ]);
    const kinds = (await db.prisma.opsEvent.findMany({ where: { missionId }, orderBy: { id: 'asc' } })).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'step:retry_scheduled')).toHaveLength(2);
    expect(kinds.slice(-3)).toEqual(['step:failed', 'step:cancelled', 'mission:failed']);

    // Finalising a finished mission again changes nothing and writes no event.
    const eventsBefore = await db.prisma.opsEvent.count();
    expect(await inTransactionForTests(db, (tx) => finaliseMission(tx, missionId, clock.now()))).toBeUndefined();
    expect(await db.prisma.opsEvent.count()).toBe(eventsBefore);
  });

  it('a non-retryable failure fails at once', async () => {
    await mission(1);
    const [step] = await claim();
    const failed = await failStep(ops, { stepId: step!.id, leaseToken: step!.leaseToken, error: 'bad params', retryable: false });
    expect(failed).toMatchObject({ status: 'failed', mission: 'failed' });
  });

  it('completing a cancelled step changes nothing', async () => {
    const missionId = await mission(2);
    const [step] = await claim();
    await db.pool.query(`UPDATE ops_mission_steps SET status = 'cancelled' WHERE id = $1`, [step!.id]);
    const before = await db.prisma.opsEvent.count();
    await expect(completeStep(ops, { stepId: step!.id, leaseToken: step!.leaseToken })).rejects.toMatchObject({ status: 409 });
    expect(await db.prisma.opsEvent.count()).toBe(before);
    expect((await db.prisma.opsMission.findUniqueOrThrow({ where: { id: missionId } })).status).toBe('running');
  });

  it('recovers a step whose lease expired through the same failure path, and a late completion then gets 409', async () => {
    const missionId = await mission(1);
    const [step] = await claim('dead-worker');
    clock.advance(59_000);
    expect(await recoverStaleSteps(ops)).toEqual({ recovered: 0 });
    clock.advance(2_000);
    expect(await recoverStaleSteps(ops)).toEqual({ recovered: 1 });
    const row = await db.prisma.opsMissionStep.findUniqueOrThrow({ where: { id: step!.id } });
    expect(row).toMatchObject({ status: 'queued', leaseToken: null, error: 'lease expired: worker stopped heartbeating' });
    expect(await db.prisma.opsEvent.count({ where: { kind: 'step:recovered', stepId: step!.id } })).toBe(1);
    await expect(completeStep(ops, { stepId: step!.id, leaseToken: step!.leaseToken })).rejects.toMatchObject({ status: 409 });

    clock.advance(60_000);
    const [again] = await claim('live-worker');
    expect(again).toMatchObject({ id: step!.id, attempt: 2 });
    await completeStep(ops, { stepId: again!.id, leaseToken: again!.leaseToken });
    expect((await db.prisma.opsMission.findUniqueOrThrow({ where: { id: missionId } })).status).toBe('succeeded');
    const runs = await db.prisma.opsStepRun.findMany({ where: { stepId: step!.id }, orderBy: { id: 'asc' } });
    expect(runs.map((r) => r.outcome)).toEqual(['lost', 'succeeded']);
  });
});

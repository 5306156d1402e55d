import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, silentLogger } from '@opsloop/core';
import { createProposal, createWorker, listenForSteps, PermanentStepError, type StepHandler, type Worker } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps } from '../../../test/app.ts';

let db: TestDatabase;
let ops: ReturnType<typeof createOps>;
const running: Worker[] = [];
const listeners: ReturnType<typeof listenForSteps>[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  ops = createOps(db, systemClock);
});
afterEach(async () => {
  // A worker left running would keep claiming in the next test.
  await Promise.all(running.splice(0).map((w) => w.stop(100)));
  await Promise.all(listeners.splice(0).map((l) => l.close()));
  await db.pool.query(`TRUNCATE ops_proposals, ops_missions, ops_mission_steps, ops_step_runs, ops_events CASCADE`);
});
afterAll(async () => {
  await db?.drop();
});

function startWorker(handler: StepHandler, options: { concurrency?: number; pollMs?: number } = {}) {
  const worker = createWorker({ deps: ops, handlers: new Map([['ops.noop', handler]]), concurrency: options.concurrency ?? 2, pollMs: options.pollMs ?? 50 });
  running.push(worker);
  worker.start();
  return worker;
}

const propose = (steps = 1) =>
  createProposal(ops, { title: 'w', skill: 'ops_internal', steps: Array.from({ length: steps }, () => ({ kind: 'ops.noop', params: {} })) }).then(
    (r) => r.proposal!.missionId!,
  );
const missionStatus = async (id: string) => (await db.prisma.opsMission.findUniqueOrThrow({ where: { id } })).status;

describe('in-process worker', () => {
  it('runs a mission\'s steps in order and stores each result', async () => {
    const order: string[] = [];
    startWorker(async (_params, { step }) => {
      order.push(`${step.position}`);
      return { position: step.position };
    });
    const id = await propose(3);
    await expect.poll(() => missionStatus(id), { timeout: 5000 }).toBe('succeeded');
    expect(order).toEqual(['0', '1', '2']);
  });

  it('a handler that throws fails the attempt without crashing; a permanent error fails the mission', async () => {
    let calls = 0;
    startWorker(async () => {
      calls++;
      throw new PermanentStepError('cannot work');
    });
    const id = await propose(1);
    await expect.poll(() => missionStatus(id), { timeout: 5000 }).toBe('failed');
    expect(calls).toBe(1);
    const step = await db.prisma.opsMissionStep.findFirstOrThrow({ where: { missionId: id } });
    expect(step.error).toBe('cannot work');
  });

  it('a handler past its timeout fails the attempt as timed_out', async () => {
    startWorker((_p, { signal }) => new Promise((resolve) => signal.addEventListener('abort', () => resolve('too late'))));
    const id = await propose(1);
    await db.pool.query(`UPDATE ops_mission_steps SET timeout_seconds = 1, max_attempts = 1 WHERE mission_id = $1`, [id]);
    await expect.poll(() => missionStatus(id), { timeout: 5000 }).toBe('failed');
    const run = await db.prisma.opsStepRun.findFirstOrThrow({ where: { missionId: id } });
    expect(run.outcome).toBe('timed_out');
  });

  it('stop() lets running handlers finish within the grace period and releases the rest', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const worker = startWorker(async (_p, { signal }) => {
      await Promise.race([gate, new Promise((r) => signal.addEventListener('abort', r))]);
      return 'done';
    }, { concurrency: 2 });
    const a = await propose(1);
    const b = await propose(1);
    await expect.poll(() => worker.running(), { timeout: 5000 }).toBe(2);
    running.splice(running.indexOf(worker), 1);
    await worker.stop(200);
    const steps = await db.prisma.opsMissionStep.findMany({ where: { missionId: { in: [a, b] } } });
    expect(steps.map((s) => s.status)).toEqual(['queued', 'queued']);
    expect(steps.every((s) => s.attempts === 0 && s.leaseToken === null)).toBe(true);
    expect(await db.prisma.opsStepRun.count({ where: { outcome: 'released' } })).toBe(2);
    release();
  });

  it('wakes on NOTIFY: an idle worker with a long poll interval starts a new step at once', async () => {
    const started: number[] = [];
    const worker = startWorker(async () => {
      started.push(Date.now());
    }, { pollMs: 60_000 });
    const listener = listenForSteps(db.url, silentLogger(), () => worker.wake());
    listeners.push(listener);
    await listener.ready;
    const t0 = Date.now();
    const id = await propose(1);
    await expect.poll(() => missionStatus(id), { timeout: 5000 }).toBe('succeeded');
    expect(started[0]! - t0).toBeLessThan(2000);
  });
});

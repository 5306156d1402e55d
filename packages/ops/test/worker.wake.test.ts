import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type pg from 'pg';
import { systemClock, silentLogger } from '@opsloop/core';
import { claimSteps, completeSteps, createProposal, createWorker, listen, wakeOne, type Listener, type StepHandler, type Worker } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps } from '../../../test/app.ts';

/**
 * Wake-ups between steps: every worker here polls once a minute, so a step started
 * within the deadline was started by a NOTIFY, never by the poll.
 */

const SECOND = 'ops.test_second';
let db: TestDatabase;
let ops: ReturnType<typeof createOps>;
const running: Worker[] = [];
const listeners: Listener[] = [];
const releases: (() => void)[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  ops = createOps(db, systemClock, [{ kind: SECOND, skill: 'ops_internal', params: z.object({}), executor: 'builtin' }]);
});
afterEach(async () => {
  releases.splice(0).forEach((release) => release());
  await Promise.all(running.splice(0).map((w) => w.stop(100)));
  await Promise.all(listeners.splice(0).map((l) => l.close()));
  await db.pool.query(`TRUNCATE ops_proposals, ops_missions, ops_mission_steps, ops_step_runs, ops_events CASCADE`);
});
afterAll(async () => {
  await db?.drop();
});

/** The pool, counting the claims that have finished (to know a worker is asleep). */
function countingClaims(pool: pg.Pool) {
  const counter = { done: 0 };
  const counted = new Proxy(pool, {
    get(target, prop) {
      if (prop === 'query') {
        return async (...args: Parameters<pg.Pool['query']>) => {
          try {
            return await (target.query as (...a: unknown[]) => Promise<unknown>)(...args);
          } finally {
            if ((args[0] as { name?: string } | undefined)?.name === 'opsloop_claim_steps') counter.done++;
          }
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { pool: counted, counter };
}

function worker(kind: string, handler: StepHandler, pool: pg.Pool = db.pool, concurrency = 1) {
  const w = createWorker({ deps: { ...ops, pool }, handlers: new Map([[kind, handler]]), concurrency, pollMs: 60_000 });
  running.push(w);
  return w;
}

const propose = () =>
  createProposal(ops, { title: 'two steps', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }, { kind: SECOND, params: {} }] }).then(
    (r) => r.proposal.missionId!,
  );
const missionStatus = async (id: string) => (await db.prisma.opsMission.findUniqueOrThrow({ where: { id } })).status;

describe('worker wake-ups', () => {
  it("completing a step NOTIFYs its mission's next step: an idle worker of that kind starts it at once", async () => {
    const first = worker('ops.noop', async () => 'first');
    const counted = countingClaims(db.pool);
    const second = worker(SECOND, async () => 'second', counted.pool);
    // Routed by the payload (the kind): only the completion's NOTIFY wakes `second`.
    const listener = listen(db.url, silentLogger(), 'opsloop_steps', {
      notify: (kind) => (kind === SECOND ? second : first).wake(),
    });
    listeners.push(listener);
    await listener.ready;
    first.start();
    second.start();
    await expect.poll(() => counted.counter.done, { timeout: 5000 }).toBeGreaterThanOrEqual(1); // asleep for a minute

    const id = await propose();
    await expect.poll(() => missionStatus(id), { timeout: 10_000 }).toBe('succeeded');
  });

  it('one NOTIFY for more steps than the woken worker has room for: the wake-up is handed on to an idle peer', async () => {
    const counted = countingClaims(db.pool);
    const started: string[] = [];
    const blocked = new Promise<void>((resolve) => releases.push(resolve));
    const handler: StepHandler = async (_params, { step }) => {
      started.push(step.id);
      await blocked;
    };
    const pool = [worker(SECOND, handler, counted.pool), worker(SECOND, handler, counted.pool)];
    const dispatch = wakeOne(pool);
    pool.forEach((w) => w.start());
    await expect.poll(() => counted.counter.done, { timeout: 5000 }).toBeGreaterThanOrEqual(2); // both asleep

    // Two missions' first steps, claimed and completed together by this test (a worker
    // of another process): two second steps are queued by ONE NOTIFY.
    await propose();
    await propose();
    const claimed = await claimSteps(ops, { workerId: 'test', kinds: ['ops.noop'], max: 2, leaseSeconds: 60 });
    expect(claimed).toHaveLength(2);
    const listener = listen(db.url, silentLogger(), 'opsloop_steps', { notify: dispatch });
    listeners.push(listener);
    await listener.ready;
    const outcomes = await completeSteps(ops, claimed.map((s) => ({ stepId: s.id, leaseToken: s.leaseToken })));
    expect(outcomes.every((o) => o.ok && o.nextStepId)).toBe(true);

    await expect.poll(() => started.length, { timeout: 10_000 }).toBe(2);
  });
});

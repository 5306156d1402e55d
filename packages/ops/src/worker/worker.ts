import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { backoffDelayMs, type Logger } from '@opsloop/core';
import type { PrismaClient } from '@opsloop/db';
import type { OpsDeps } from '../types.ts';
import { claimSteps, type ClaimedStep } from '../steps/claimSteps.ts';
import { completeSteps, extendLease, failStep, releaseSteps, type CompleteInput, type CompleteOutcome } from '../steps/settleStep.ts';
import { createBatcher } from './batcher.ts';

export interface StepContext {
  step: ClaimedStep;
  /** Aborted when the step times out, its lease is lost, or the worker stops. */
  signal: AbortSignal;
  /**
   * Aborted as soon as the worker starts stopping (before `signal`): finish what is in
   * flight, but start no new external side effect (another post, another reply).
   */
  stopping: AbortSignal;
  logger: Logger;
  prisma: PrismaClient;
}

/** A built-in executor. Its return value is stored as the step's result. */
export type StepHandler = (params: Record<string, unknown>, ctx: StepContext) => Promise<unknown>;

/** Thrown by a handler for a failure that retrying cannot fix. */
export class PermanentStepError extends Error {
  readonly retryable = false;
}

export interface WorkerOptions {
  deps: Pick<OpsDeps, 'prisma' | 'pool' | 'clock' | 'policy' | 'logger' | 'random'>;
  handlers: ReadonlyMap<string, StepHandler>;
  /** (Default: hostname:pid:random) */
  workerId?: string;
  /** Most steps running at once in this worker. (Default: 4) */
  concurrency?: number;
  /** Poll interval when no notification arrives: the fallback for a lost LISTEN. (Default: 2000) */
  pollMs?: number;
  /** Lease length; renewed every third of it while the handler runs. (Default: `step_defaults.lease_seconds` at each claim) */
  leaseSeconds?: number;
}

export interface Worker {
  readonly workerId: string;
  start(): void;
  /** Wake the loop now (a NOTIFY arrived). */
  wake(): void;
  /** Stop claiming; give running handlers `graceMs`, then abort them and release their leases. */
  stop(graceMs?: number): Promise<void>;
  running(): number;
  /** Free slots: how many more steps it would claim now. */
  idle(): number;
  /**
   * Called when a claim filled every free slot: more steps may be queued, and this worker
   * cannot take them. wakeOne sets it to wake an idle peer.
   */
  onFull(handOff: () => void): void;
}

/**
 * For a process running several workers on one LISTEN connection: each notification
 * wakes ONE worker with a free slot (round robin), not all of them. Waking every idle
 * worker makes them race for the same new step; all but one claim nothing, and on two
 * cores their claims slow down the one that wins.
 *
 * One notification can stand for more steps than the woken worker has room for (one
 * NOTIFY per kind for a batch of completions, a release, a worker that was already
 * claiming when it was picked and fills up with older steps). A worker that has room
 * left claims again by itself; one that a claim filled hands the wake-up on to an idle
 * peer, so no step waits for the poll while a worker sleeps.
 */
export function wakeOne(workers: readonly Worker[]): () => void {
  let next = 0;
  const wakeIdle = (except?: Worker) => {
    for (let i = 0; i < workers.length; i++) {
      const w = workers[(next + i) % workers.length]!;
      if (w !== except && w.idle() > 0) {
        next = (next + i + 1) % workers.length;
        return w.wake();
      }
    }
  };
  for (const w of workers) w.onFull(() => wakeIdle(w));
  return () => wakeIdle();
}

/**
 * The in-process worker: claims steps of the kinds it has handlers for, with bounded
 * concurrency, runs them, and settles each attempt. A handler that throws or runs past
 * its timeout fails the attempt; nothing a handler does can crash the process.
 */
export function createWorker(o: WorkerOptions): Worker {
  const { deps } = o;
  const log = deps.logger.child({ component: 'worker' });
  const workerId = o.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const concurrency = o.concurrency ?? 4;
  const pollMs = o.pollMs ?? 2000;
  const leaseSeconds = o.leaseSeconds;
  const kinds = [...o.handlers.keys()];
  const active = new Map<string, { step: ClaimedStep; abort: AbortController; done: Promise<void> }>();
  const completions = createBatcher<CompleteInput, CompleteOutcome>((items) => completeSteps(deps, items));

  let stopping = false;
  const stoppingSignal = new AbortController();
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let pendingWake = false;
  let handOff: (() => void) | undefined;

  const wake = () => {
    pendingWake = true;
    wakeUp?.();
  };

  const waitForWake = (ms: number) =>
    new Promise<void>((resolve) => {
      if (pendingWake || stopping) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  async function run(step: ClaimedStep, abort: AbortController): Promise<void> {
    const handler = o.handlers.get(step.kind)!;
    const stepLog = log.child({ stepId: step.id, kind: step.kind, attempt: step.attempt, traceId: step.traceId });
    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      abort.abort(new Error(`step timed out after ${step.timeoutSeconds}s`));
    }, step.timeoutSeconds * 1000);
    const renew = setInterval(() => {
      extendLease(deps, { stepId: step.id, leaseToken: step.leaseToken, leaseSeconds: step.leaseSeconds }).catch((error: unknown) => {
        stepLog.warn({ err: error }, 'lease lost; aborting handler');
        abort.abort(new Error('lease lost'));
      });
    }, (step.leaseSeconds * 1000) / 3);
    try {
      const aborted = new Promise<never>((_, reject) => {
        if (abort.signal.aborted) reject(abort.signal.reason);
        abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true });
      });
      const result = await Promise.race([handler(step.params, { step, signal: abort.signal, stopping: stoppingSignal.signal, logger: stepLog, prisma: deps.prisma }), aborted]);
      clearInterval(renew);
      const outcome = await completions.add({ stepId: step.id, leaseToken: step.leaseToken, result });
      if (!outcome.ok) stepLog.warn({ error: outcome.error }, 'completion refused: lease no longer ours');
    } catch (error) {
      clearInterval(renew);
      if (stopping && !timedOut && abort.signal.aborted) return; // released by stop()
      const message = error instanceof Error ? error.message : String(error);
      const retryable = !(error instanceof PermanentStepError);
      await failStep(deps, { stepId: step.id, leaseToken: step.leaseToken, error: message, retryable, outcome: timedOut ? 'timed_out' : 'failed' }).catch(
        (settleError: unknown) => stepLog.warn({ err: settleError }, 'could not record failure (lease lost?)'),
      );
      stepLog.warn({ error: message, timedOut }, 'step attempt failed');
    } finally {
      clearTimeout(timeout);
      clearInterval(renew);
    }
  }

  async function mainLoop(): Promise<void> {
    let consecutiveErrors = 0;
    while (!stopping) {
      pendingWake = false;
      const free = concurrency - active.size;
      let claimed: ClaimedStep[] = [];
      if (free > 0) {
        try {
          claimed = await claimSteps(deps, { workerId, kinds, max: free, leaseSeconds });
          consecutiveErrors = 0;
        } catch (error) {
          consecutiveErrors++;
          log.error({ err: error, consecutiveErrors }, 'claim failed');
          await waitForWake(backoffDelayMs(consecutiveErrors, 200, 30_000));
          continue;
        }
      }
      for (const step of claimed) {
        const abort = new AbortController();
        const done = run(step, abort)
          .catch((error: unknown) => log.error({ err: error }, 'unexpected worker error'))
          .finally(() => {
            active.delete(step.id);
            wake();
          });
        active.set(step.id, { step, abort, done });
      }
      // A full batch means more may be waiting: claim again at once, or, with no room
      // left, let an idle peer claim them.
      if (claimed.length > 0 && claimed.length === free) {
        if (concurrency - active.size === 0) handOff?.();
        continue;
      }
      await waitForWake(pollMs);
    }
  }

  return {
    workerId,
    wake,
    running: () => active.size,
    idle: () => (stopping ? 0 : concurrency - active.size),
    onFull(fn) {
      handOff = fn;
    },
    start() {
      if (loop) return;
      log.info({ workerId, kinds, concurrency }, 'worker started');
      loop = mainLoop();
    },
    async stop(graceMs = 10_000) {
      stopping = true;
      stoppingSignal.abort(new Error('worker stopping'));
      wake();
      await loop;
      const drained = Promise.all([...active.values()].map((a) => a.done));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      const left = [...active.values()];
      if (left.length) {
        for (const a of left) a.abort.abort(new Error('worker stopping'));
        const released = await releaseSteps(deps, left.map((a) => ({ stepId: a.step.id, leaseToken: a.step.leaseToken })));
        log.warn({ released, steps: left.map((a) => ({ stepId: a.step.id, kind: a.step.kind })) }, 'grace period over: released the leases of unfinished steps');
        await Promise.all(left.map((a) => a.done));
      }
      log.info({ workerId }, 'worker stopped');
    },
  };
}

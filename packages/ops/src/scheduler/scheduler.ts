/**
 * The in-process scheduler, in one glossary:
 *
 * - job        One entry of schedule.yaml (loadSchedule.ts): a cron expression in a time
 *              zone, a catch-up rule and what to run, an internal job or a proposal template.
 * - calendar   When a job's ticks fall (calendar.ts, croner). The same calendar decides
 *              which tick is due and previews the next run in status().
 * - tick       One firing of a job, keyed by (job name, the minute it was due). Every
 *              replica derives the same key, so the key is how they agree.
 * - claim      The INSERT of a tick's ops_schedule_runs row. The UNIQUE key lets exactly
 *              one replica win; the others get `taken` and do nothing.
 * - catch-up   After downtime, a `catch_up: latest` job runs the latest tick it missed once
 *              at start-up (claimed like any tick, so once across replicas).
 * - skipped    A run that did nothing, with its reason: the job said so (JobOutcome), or its
 *              previous run was still running (here, or on a live replica).
 * - owner      The scheduler whose session lock (ownerSession.ts) is recorded on the ticks it
 *              claims; a `running` tick whose owner is gone is `abandoned`.
 * - runner     The instance id (host:pid) written on the rows this process claims.
 *
 * Time comes only from the injected clock; wake-ups from `timers` (real ones by default),
 * and each wake-up asks the clock what is due. So a test moves a FakeClock and calls
 * checkDue() (or fires its manual timers): croner never starts a timer of its own.
 */
import { describeError, NotFoundError, type Clock, type Logger } from '@opsloop/core';
import type { PrismaClient } from '@opsloop/db';
import type pg from 'pg';
import type { ProposalInput } from '../proposals/validateProposal.ts';
import { markAbandonedTicks, type AbandonedTick } from './abandonedTicks.ts';
import { jobCalendar, type JobCalendar } from './calendar.ts';
import { claimTick, lastScheduledTick, recordSkippedTick, type RunCause } from './claimTick.ts';
import { finishTick } from './finishTick.ts';
import { createProposal, type ProposalDeps } from '../proposals/createProposal.ts';
import { proposalJobOutcome, type CatchUp, type InternalJobs, type JobOutcome } from './jobs.ts';
import type { ScheduleJob } from './loadSchedule.ts';
import { openOwnerSession, type OwnerSession } from './ownerSession.ts';

/** Where the scheduler's wake-ups come from. */
export interface WakeTimers {
  set(delayMs: number, wake: () => void): { clear(): void };
}

/** Real timers, unref'd (the scheduler alone does not keep a process alive). */
export const realWakeTimers: WakeTimers = {
  set(delayMs, wake) {
    const timer = setTimeout(wake, delayMs);
    timer.unref();
    return { clear: () => clearTimeout(timer) };
  },
};

/** Timers that fire only when a test says so: `fire()` runs the armed wake-up, `delays` lists what was asked. */
export function manualWakeTimers(): WakeTimers & { fire(): void; readonly delays: number[]; armed(): boolean } {
  let armed: (() => void) | undefined;
  const delays: number[] = [];
  return {
    delays,
    armed: () => armed !== undefined,
    set(delayMs, wake) {
      delays.push(delayMs);
      armed = wake;
      return { clear: () => void (armed === wake && (armed = undefined)) };
    },
    fire() {
      const wake = armed;
      armed = undefined;
      wake?.();
    },
  };
}

export interface SchedulerOptions {
  jobs: readonly ScheduleJob[];
  prisma: PrismaClient;
  /** One connection of it stays checked out while the scheduler runs: it holds the owner lock. */
  pool: pg.Pool;
  clock: Clock;
  logger: Logger;
  /** This instance's id, stored as `runner` on the ticks it claims. */
  runner: string;
  /** What `run: { internal: <name> }` may name. */
  internalJobs: InternalJobs;
  /** Submits a `run: { proposal }` job's proposal for one tick, normally submitScheduledProposal(deps). */
  submitProposal: (job: ScheduleJob, scheduledFor: Date) => Promise<JobOutcome>;
  /** (Default: realWakeTimers) */
  timers?: WakeTimers;
  /**
   * A tick found due later than this after its time (blocked event loop, suspended host,
   * clock step) is a missed tick: run as `catch_up` by `latest` jobs, dropped by others.
   * (Default: 60000)
   */
  lateToleranceMs?: number;
  /** Longest sleep between wake-ups, so a wall-clock step is noticed within it. (Default: 30000) */
  maxWakeMs?: number;
  /** A `running` row that recorded no owner counts as abandoned this long after it started. (Default: 30 minutes) */
  ownerlessStaleMs?: number;
}

export type TickOutcome =
  | { outcome: 'succeeded'; runId: string; detail: unknown }
  | { outcome: 'failed'; runId: string; error: string }
  /** runId is null when nothing was recorded (the scheduler is stopping). */
  | { outcome: 'skipped'; runId: string | null; reason: string; detail?: unknown }
  /** Another replica claimed this tick. */
  | { outcome: 'taken' };

/** What runNow() answers once the run is claimed (or refused); `done` settles when it ends. */
export type ClaimedRun =
  | { outcome: 'started'; runId: string; scheduledFor: Date; done: Promise<TickOutcome> }
  | { outcome: 'skipped'; runId: string | null; reason: string }
  | { outcome: 'taken' };

export type RunOutcome = 'running' | 'succeeded' | 'failed' | 'skipped' | 'abandoned';

export interface LastRun {
  scheduledFor: Date;
  runner: string;
  cause: RunCause;
  requestedBy: string | null;
  outcome: RunOutcome;
  /** Why it was skipped or abandoned. */
  reason: string | null;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface JobStatus {
  name: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  catchUp: CatchUp;
  run: 'internal' | 'proposal';
  /** The internal job's name, or the proposal's title. */
  target: string;
  /** This process is running one of the job's ticks now. */
  running: boolean;
  /** The job's latest run in ops_schedule_runs, from any replica. */
  lastRun: LastRun | null;
  /** From the injected clock and the job's calendar; null when the job is disabled. */
  nextRunAt: Date | null;
}

export interface Scheduler {
  /**
   * Marks abandoned ticks, runs the start-up catch-up of `latest` jobs, and starts waking
   * up for due ticks. Resolves with the catch-up runs' outcomes once they end (callers
   * need not wait). A stopped scheduler cannot start again.
   */
  start(): Promise<TickOutcome[]>;
  /**
   * Stops waking up, then waits for running ticks: after `graceMs` their signals abort,
   * and stop() still waits for them to settle; then releases the owner lock. (Default graceMs: 30000)
   */
  stop(graceMs?: number): Promise<void>;
  /**
   * Runs every tick due by the clock now and sets the next wake-up; the wake-ups call
   * this, and so can tests. Resolves when those runs end.
   */
  checkDue(): Promise<TickOutcome[]>;
  /** Claims and runs one tick of `job`. Rejects only if the claim cannot be written. */
  runTick(job: ScheduleJob, scheduledFor: Date, cause?: RunCause): Promise<TickOutcome>;
  /**
   * Runs `jobName` now, recorded like a tick (cause `manual`, requested_by `by`), even when
   * the job is disabled. Answers once claimed; skipped while the job's previous run is still
   * running. Throws NotFoundError for a job the schedule does not have.
   */
  runNow(jobName: string, o: { by: string }): Promise<ClaimedRun>;
  /** Marks `running` ticks whose owner is gone `abandoned`; start() and each minute of wake-ups do too. */
  markAbandoned(): Promise<AbandonedTick[]>;
  status(): Promise<JobStatus[]>;
  isStarted(): boolean;
  /** Names of the jobs with a tick running in this process. */
  runningJobs(): string[];
}

const DEFAULT_LATE_TOLERANCE_MS = 60_000;
const DEFAULT_OWNERLESS_STALE_MS = 30 * 60_000;
const DEFAULT_MAX_WAKE_MS = 30_000;
const ABANDON_SWEEP_MS = 60_000;
export const STILL_RUNNING_HERE = 'previous run still running in this process';
export const SCHEDULER_STOPPING = 'scheduler stopping';

interface JobState {
  job: ScheduleJob;
  calendar: JobCalendar;
  catchUp: CatchUp;
  /** The latest tick the wake-ups have dealt with (fired, found missed, or before start). */
  handled: number;
}

export function createScheduler(o: SchedulerOptions): Scheduler {
  const log = o.logger.child({ component: 'scheduler', runner: o.runner });
  const ownerlessStaleMs = o.ownerlessStaleMs ?? DEFAULT_OWNERLESS_STALE_MS;
  const lateToleranceMs = o.lateToleranceMs ?? DEFAULT_LATE_TOLERANCE_MS;
  const timers = o.timers ?? realWakeTimers;
  const maxWakeMs = o.maxWakeMs ?? DEFAULT_MAX_WAKE_MS;
  const states = new Map<string, JobState>(
    o.jobs.map((job) => [
      job.name,
      { job, calendar: jobCalendar(job.cron, job.timezone), catchUp: catchUpOf(job, o.internalJobs), handled: Number.POSITIVE_INFINITY },
    ]),
  );
  const active = new Map<string, { done: Promise<unknown>; abort: AbortController }>();
  let owner: OwnerSession | undefined;
  let timer: { clear(): void } | undefined;
  let lastSweep = Number.NEGATIVE_INFINITY;
  let started = false;
  let stopping = false;

  const ownerKey = () => (owner ??= openOwnerSession(o.pool, log)).key();
  const sweepDeps = { prisma: o.prisma, clock: o.clock };

  async function perform(job: ScheduleJob, tick: Date, cause: RunCause, signal: AbortSignal): Promise<JobOutcome> {
    if ('internal' in job.run) {
      const internal = o.internalJobs[job.run.internal];
      if (!internal) throw new Error(`unknown internal job "${job.run.internal}"`);
      return internal.run({ jobName: job.name, scheduledFor: tick, cause, signal });
    }
    return o.submitProposal(job, tick);
  }

  /** Runs a claimed tick to its end and records how it ended. Never rejects. */
  async function execute(job: ScheduleJob, tick: Date, cause: RunCause, runId: string, signal: AbortSignal, jobLog: Logger): Promise<TickOutcome> {
    let ended: Parameters<typeof finishTick>[1];
    let outcome: TickOutcome;
    try {
      const result = await perform(job, tick, cause, signal);
      if (result.status === 'succeeded') {
        outcome = { outcome: 'succeeded', runId, detail: result.detail };
        ended = { runId, outcome: 'succeeded', detail: result.detail };
        jobLog.info('scheduled job succeeded');
      } else {
        outcome = { outcome: 'skipped', runId, reason: result.reason, detail: result.detail };
        ended = { runId, outcome: 'skipped', reason: result.reason, detail: result.detail };
        jobLog.info({ reason: result.reason }, 'scheduled job skipped');
      }
    } catch (error) {
      const message = describeError(error);
      outcome = { outcome: 'failed', runId, error: message };
      ended = { runId, outcome: 'failed', error: message };
      jobLog.warn({ error: message }, 'scheduled job failed');
    }
    try {
      await finishTick(sweepDeps, ended);
    } catch (error) {
      // The row stays `running` until this process's owner lock is gone, then it is abandoned.
      jobLog.error({ err: error, runId }, 'could not record the run outcome');
    }
    return outcome;
  }

  /**
   * Claims a run and, when claimed, starts it. The job is marked active before the first
   * await, so a second call for it sees it at once. `claim` settles after the claim.
   */
  function begin(job: ScheduleJob, tick: Date, cause: RunCause, requestedBy?: string): { claim: Promise<ClaimedRun> } {
    const jobLog = log.child({ job: job.name, scheduledFor: tick.toISOString(), cause });
    if (stopping) return { claim: Promise.resolve({ outcome: 'skipped', runId: null, reason: SCHEDULER_STOPPING }) };
    if (active.has(job.name)) {
      jobLog.warn(STILL_RUNNING_HERE + '; skipped');
      const claim = recordSkippedTick(sweepDeps, { jobName: job.name, scheduledFor: tick, runner: o.runner, cause, requestedBy, reason: STILL_RUNNING_HERE }).then(
        (runId): ClaimedRun => (runId ? { outcome: 'skipped', runId, reason: STILL_RUNNING_HERE } : { outcome: 'taken' }),
      );
      return { claim };
    }
    const abort = new AbortController();
    let settle!: (outcome: TickOutcome) => void;
    const done = new Promise<TickOutcome>((resolve) => (settle = resolve));
    active.set(job.name, { done, abort });
    const claim = (async (): Promise<ClaimedRun> => {
      try {
        const key = await ownerKey();
        const c = await claimTick(sweepDeps, { jobName: job.name, scheduledFor: tick, runner: o.runner, ownerKey: key, cause, requestedBy, ownerlessStaleMs });
        if (c.abandoned > 0) jobLog.warn({ abandoned: c.abandoned }, 'earlier runs of the job were abandoned by a scheduler that is gone');
        if (c.claimed) {
          void execute(job, tick, cause, c.runId, abort.signal, jobLog).then(settle);
          return { outcome: 'started', runId: c.runId, scheduledFor: tick, done };
        }
        if (c.skipped) jobLog.warn({ busyRunner: c.skipped.runner }, 'previous run still running on another scheduler; skipped');
        else jobLog.debug('tick taken by another replica');
        const outcome: ClaimedRun = c.skipped ? { outcome: 'skipped', runId: c.skipped.runId, reason: c.skipped.reason } : { outcome: 'taken' };
        settle(outcome);
        return outcome;
      } catch (error) {
        // Nothing was recorded: frees the job for the next attempt; the caller gets the error.
        settle({ outcome: 'skipped', runId: null, reason: 'claim failed' });
        throw error;
      }
    })();
    void done.finally(() => {
      if (active.get(job.name)?.done === done) active.delete(job.name);
    });
    return { claim };
  }

  async function runTick(job: ScheduleJob, scheduledFor: Date, cause: RunCause = 'schedule'): Promise<TickOutcome> {
    const tick = new Date(Math.floor(scheduledFor.getTime() / 60_000) * 60_000);
    const claimed = await begin(job, tick, cause).claim;
    return claimed.outcome === 'started' ? claimed.done : claimed;
  }

  /** Decides, from the clock, which ticks are due and starts them. */
  function fireDue(): Promise<TickOutcome | undefined>[] {
    const now = o.clock.now().getTime();
    const runs: Promise<TickOutcome | undefined>[] = [];
    for (const st of states.values()) {
      if (!st.job.enabled) continue;
      const tick = st.calendar.latestAtOrBefore(new Date(now));
      if (!tick || tick.getTime() <= st.handled) continue;
      const previous = st.handled;
      st.handled = tick.getTime();
      const late = now - tick.getTime() > lateToleranceMs;
      if (late && st.catchUp === 'none') {
        log.warn({ job: st.job.name, scheduledFor: tick.toISOString() }, 'tick missed (catch_up: none); dropped');
        continue;
      }
      runs.push(
        runTick(st.job, tick, late ? 'catch_up' : 'schedule').catch((error: unknown) => {
          // Try again on the next wake-up (while still on time, or as the catch-up).
          if (st.handled === tick.getTime()) st.handled = previous;
          log.error({ err: error, job: st.job.name }, 'could not claim tick');
          return undefined;
        }),
      );
    }
    if (now - lastSweep >= ABANDON_SWEEP_MS) {
      lastSweep = now;
      void sweep();
    }
    return runs;
  }

  function arm(): void {
    timer?.clear();
    timer = undefined;
    if (!started || stopping) return;
    const now = o.clock.now();
    let delay = maxWakeMs;
    for (const st of states.values()) {
      if (!st.job.enabled) continue;
      const next = st.calendar.nextAfter(now);
      if (next) delay = Math.min(delay, next.getTime() - now.getTime());
    }
    timer = timers.set(Math.max(0, delay), () => void checkDue());
  }

  async function sweep(): Promise<AbandonedTick[]> {
    try {
      const gone = await markAbandonedTicks(sweepDeps, { ownerlessStaleMs });
      for (const t of gone) log.warn({ job: t.jobName, scheduledFor: t.scheduledFor.toISOString(), owner: t.runner }, 'run abandoned: its scheduler is gone');
      return gone;
    } catch (error) {
      log.error({ err: error }, 'could not mark abandoned runs');
      return [];
    }
  }

  /** At start-up: the latest tick a `latest` job missed while no scheduler ran, once. */
  async function catchUp(st: JobState, startedAt: Date): Promise<TickOutcome | undefined> {
    const tick = st.calendar.latestAtOrBefore(startedAt);
    if (!tick) return undefined;
    // A job that never ran has missed nothing (a new job does not fire for a tick before it existed).
    const last = await lastScheduledTick(o, st.job.name);
    if (!last || last >= tick) return undefined;
    log.info({ job: st.job.name, scheduledFor: tick.toISOString(), lastTick: last.toISOString() }, 'catching up the latest missed tick');
    return runTick(st.job, tick, 'catch_up');
  }

  async function checkDue(): Promise<TickOutcome[]> {
    const runs = fireDue();
    arm();
    const outcomes = await Promise.all(runs);
    return outcomes.filter((x): x is TickOutcome => x !== undefined);
  }

  async function stop(graceMs = 30_000) {
    stopping = true;
    timer?.clear();
    timer = undefined;
    const running = () => Promise.allSettled([...active.values()].map((a) => a.done));
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = await Promise.race([running().then(() => false), new Promise<boolean>((r) => (graceTimer = setTimeout(() => r(true), graceMs)))]);
    clearTimeout(graceTimer);
    if (graceOver) {
      log.warn({ jobs: [...active.keys()] }, 'runs still going after the grace period; aborting them');
      for (const a of active.values()) a.abort.abort(new Error(SCHEDULER_STOPPING));
      await running();
    }
    await owner?.close();
    if (started) log.info('scheduler stopped');
    started = false;
  }

  return {
    runTick,
    stop,
    isStarted: () => started,
    runningJobs: () => [...active.keys()],
    markAbandoned: sweep,

    checkDue,

    async start() {
      if (started || stopping) return [];
      started = true;
      const startedAt = o.clock.now();
      // Ticks up to now are the catch-up's; wake-ups fire the ones after.
      for (const st of states.values()) st.handled = startedAt.getTime();
      lastSweep = startedAt.getTime();
      arm();
      log.info({ jobs: [...states.values()].filter((s) => s.job.enabled).length }, 'scheduler started');
      await sweep();
      const catchUps = [...states.values()].filter((st) => st.job.enabled && st.catchUp === 'latest');
      const outcomes = await Promise.all(
        catchUps.map((st) =>
          catchUp(st, startedAt).catch((error: unknown) => {
            log.error({ err: error, job: st.job.name }, 'could not catch up the missed tick');
            return undefined;
          }),
        ),
      );
      return outcomes.filter((x): x is TickOutcome => x !== undefined);
    },

    async runNow(jobName, { by }) {
      const st = states.get(jobName);
      if (!st) throw new NotFoundError(`no scheduled job "${jobName}"`);
      return begin(st.job, o.clock.now(), 'manual', by).claim;
    },

    async status() {
      const rows = await o.prisma.$queryRaw<
        {
          job_name: string;
          scheduled_for: Date;
          runner: string;
          cause: RunCause;
          requested_by: string | null;
          outcome: RunOutcome;
          reason: string | null;
          error: string | null;
          started_at: Date;
          finished_at: Date | null;
        }[]
      >`
        SELECT DISTINCT ON (job_name) job_name, scheduled_for, runner, cause, requested_by, outcome, reason, error, started_at, finished_at
        FROM ops_schedule_runs
        WHERE job_name = ANY(${o.jobs.map((j) => j.name)}::text[])
        ORDER BY job_name, scheduled_for DESC`;
      const last = new Map(rows.map((r) => [r.job_name, r]));
      const now = o.clock.now();
      return [...states.values()].map(({ job, calendar, catchUp }): JobStatus => {
        const r = last.get(job.name);
        return {
          name: job.name,
          cron: job.cron,
          timezone: job.timezone,
          enabled: job.enabled,
          catchUp,
          run: 'internal' in job.run ? 'internal' : 'proposal',
          target: 'internal' in job.run ? job.run.internal : job.run.proposal.title,
          running: active.has(job.name),
          lastRun: r
            ? {
                scheduledFor: r.scheduled_for,
                runner: r.runner,
                cause: r.cause,
                requestedBy: r.requested_by,
                outcome: r.outcome,
                reason: r.reason,
                error: r.error,
                startedAt: r.started_at,
                finishedAt: r.finished_at,
              }
            : null,
          nextRunAt: job.enabled ? calendar.nextAfter(now) : null,
        };
      });
    },
  };
}

/** A job's catch-up rule: as schedule.yaml declares it, else its internal job's default, else `none`. */
export function catchUpOf(job: ScheduleJob, internalJobs: InternalJobs): CatchUp {
  if (job.catchUp) return job.catchUp;
  return ('internal' in job.run ? internalJobs[job.run.internal]?.catchUp : undefined) ?? 'none';
}

/**
 * The proposal a `run: { proposal }` job submits for one tick, for createProposal. The
 * dedupe key names the tick, so a retried submission of it makes no second proposal.
 */
export function proposalFromJob(job: ScheduleJob, scheduledFor: Date): ProposalInput {
  if (!('proposal' in job.run)) throw new Error(`job "${job.name}" runs an internal job, not a proposal`);
  const p = job.run.proposal;
  return {
    title: p.title,
    skill: p.skill,
    source: 'schedule',
    proposedBy: 'scheduler',
    ...(p.dedupe ? { dedupeKey: `schedule:${job.name}:${scheduledFor.toISOString()}` } : {}),
    steps: structuredClone(p.steps),
  };
}

/** The usual `submitProposal`: through the single proposal entry point, with proposalJobOutcome's semantics. */
export function submitScheduledProposal(deps: ProposalDeps): (job: ScheduleJob, scheduledFor: Date) => Promise<JobOutcome> {
  return async (job, scheduledFor) => proposalJobOutcome(await createProposal(deps, proposalFromJob(job, scheduledFor)));
}

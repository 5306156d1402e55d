/**
 * The in-process scheduler, in one glossary:
 *
 * - job        One entry of schedule.yaml (loadSchedule.ts): a cron expression in a time
 *              zone and what to run, an internal job or a proposal template.
 * - tick       One firing of a job, keyed by (job name, the minute it was due). Every
 *              replica derives the same key, so the key is how they agree.
 * - claim      The INSERT of a tick's ops_schedule_runs row. The UNIQUE key lets exactly
 *              one replica win; the others get `taken` and do nothing.
 * - skipped    A tick that was due while the job's previous tick was still running (in
 *              this process, or recently started on any replica); recorded, not run.
 * - runner     The instance id written on the rows this process claims.
 */
import cron, { type ScheduledTask } from 'node-cron';
import { describeError, NotFoundError, type Clock, type Logger } from '@opsloop/core';
import type { PrismaClient } from '@opsloop/db';
import type { ProposalInput } from '../proposals/validateProposal.ts';
import { claimTick, recordSkippedTick } from './claimTick.ts';
import { nextFireTime, parseCronFields, type CronFields } from './cronTime.ts';
import { finishTick } from './finishTick.ts';
import type { ScheduleJob } from './loadSchedule.ts';

export interface SchedulerOptions {
  jobs: readonly ScheduleJob[];
  prisma: PrismaClient;
  clock: Clock;
  logger: Logger;
  /** This instance's id, stored as `runner` on the ticks it claims. */
  runner: string;
  /** Runs a `run: { internal }` job. `signal` aborts when stop() runs out of patience. */
  runInternal: (name: string, signal: AbortSignal) => Promise<unknown>;
  /** Submits a `run: { proposal }` job's proposal, normally createProposal(proposalFromJob(job, scheduledFor)). */
  submitProposal: (job: ScheduleJob, scheduledFor: Date) => Promise<unknown>;
  /**
   * A previous tick still `running` in the database and started less than this long ago
   * makes the next tick `skipped`; an older one is taken as abandoned by a dead replica
   * and no longer blocks the job. (Default: 30 minutes)
   */
  staleRunningMs?: number;
}

export type TickOutcome =
  | { outcome: 'succeeded'; runId: string; result: unknown }
  | { outcome: 'failed'; runId: string; error: string }
  /** runId is null when nothing was recorded (the scheduler is stopping). */
  | { outcome: 'skipped'; runId: string | null; reason: string }
  /** Another replica claimed this tick. */
  | { outcome: 'taken' };

/** What runNow() answers once the run is claimed (or refused); `done` settles when it ends. */
export type ClaimedRun =
  | { outcome: 'started'; runId: string; scheduledFor: Date; done: Promise<TickOutcome> }
  | { outcome: 'skipped'; runId: string | null; reason: string }
  | { outcome: 'taken' };

export interface LastRun {
  scheduledFor: Date;
  runner: string;
  outcome: 'running' | 'succeeded' | 'failed' | 'skipped';
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface JobStatus {
  name: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  run: 'internal' | 'proposal';
  /** The internal job's name, or the proposal's title. */
  target: string;
  /** This process is running one of the job's ticks now. */
  running: boolean;
  /** The job's latest tick in ops_schedule_runs, from any replica. */
  lastRun: LastRun | null;
  /** From the injected clock; null when the job is disabled. */
  nextRunAt: Date | null;
}

export interface Scheduler {
  /** Schedules every enabled job with node-cron. A stopped scheduler cannot start again. */
  start(): void;
  /**
   * Stops every cron task, then waits for running ticks: after `graceMs` their signals
   * abort, and stop() still waits for them to settle. (Default graceMs: 30000)
   */
  stop(graceMs?: number): Promise<void>;
  /** Claims and runs one tick of `job`; the cron tasks call this, and so can tests. Rejects only if the claim cannot be written. */
  runTick(job: ScheduleJob, scheduledFor: Date): Promise<TickOutcome>;
  /**
   * Runs `jobName` now, outside its cron, recorded in ops_schedule_runs like a tick (its
   * `scheduled_for` is the exact request time, so it never takes a cron tick's key).
   * Answers once the run is claimed: `started` with `done`, or `skipped` while a tick of
   * the job runs in this process. Throws NotFoundError for a job the schedule does not
   * have. (The same contract as wt/scheduler's runNow; `by` is recorded there.)
   */
  runNow(jobName: string, o: { by: string }): Promise<ClaimedRun>;
  status(): Promise<JobStatus[]>;
  isStarted(): boolean;
  /** Names of the jobs with a tick running in this process. */
  runningJobs(): string[];
}

const DEFAULT_STALE_RUNNING_MS = 30 * 60_000;
const MISSED_TICK_TOLERANCE_MS = 30_000;

export function createScheduler(o: SchedulerOptions): Scheduler {
  const log = o.logger.child({ component: 'scheduler', runner: o.runner });
  const staleRunningMs = o.staleRunningMs ?? DEFAULT_STALE_RUNNING_MS;
  const fields = new Map<string, CronFields>(o.jobs.map((j) => [j.name, parseCronFields(j.cron)]));
  const active = new Map<string, { done: Promise<unknown>; abort: AbortController }>();
  const tasks: ScheduledTask[] = [];
  let started = false;
  let stopping = false;

  async function execute(job: ScheduleJob, tick: Date, signal: AbortSignal, jobLog: Logger): Promise<TickOutcome> {
    const claim = await claimTick(o, { jobName: job.name, scheduledFor: tick, runner: o.runner, staleRunningMs });
    if (!claim.claimed) {
      if (!claim.skipped) {
        jobLog.debug('tick taken by another replica');
        return { outcome: 'taken' };
      }
      jobLog.warn({ busyRunner: claim.skipped.runner }, 'previous tick still running; tick skipped');
      return { outcome: 'skipped', runId: claim.skipped.runId, reason: claim.skipped.reason };
    }
    let outcome: TickOutcome;
    try {
      const result = 'internal' in job.run ? await o.runInternal(job.run.internal, signal) : await o.submitProposal(job, tick);
      outcome = { outcome: 'succeeded', runId: claim.runId, result };
      jobLog.info('scheduled job succeeded');
    } catch (error) {
      outcome = { outcome: 'failed', runId: claim.runId, error: describeError(error) };
      jobLog.warn({ error: outcome.error }, 'scheduled job failed');
    }
    try {
      await finishTick(o, {
        runId: claim.runId,
        outcome: outcome.outcome,
        error: outcome.outcome === 'failed' ? outcome.error : undefined,
        result: outcome.outcome === 'succeeded' ? outcome.result : undefined,
      });
    } catch (error) {
      // The row stays `running` and stops blocking the job after staleRunningMs.
      jobLog.error({ err: error, runId: claim.runId }, 'could not record the tick outcome');
    }
    return outcome;
  }

  function runTick(job: ScheduleJob, scheduledFor: Date, exact = false): Promise<TickOutcome> {
    const tick = exact ? scheduledFor : new Date(Math.floor(scheduledFor.getTime() / 60_000) * 60_000);
    const jobLog = log.child({ job: job.name, scheduledFor: tick.toISOString() });
    if (stopping) return Promise.resolve({ outcome: 'skipped', runId: null, reason: 'scheduler stopping' });
    if (active.has(job.name)) {
      const reason = 'previous tick still running in this process';
      jobLog.warn(reason + '; tick skipped');
      return recordSkippedTick(o, { jobName: job.name, scheduledFor: tick, runner: o.runner, reason }).then(
        (runId): TickOutcome => (runId ? { outcome: 'skipped', runId, reason } : { outcome: 'taken' }),
      );
    }
    // Registered before the first await, so a second call for the job sees it at once.
    const abort = new AbortController();
    const done = execute(job, tick, abort.signal, jobLog).finally(() => active.delete(job.name));
    active.set(job.name, { done, abort });
    return done;
  }

  function onFire(job: ScheduleJob, firedFor: Date): void {
    runTick(job, firedFor).catch((error: unknown) => log.error({ err: error, job: job.name }, 'could not claim tick'));
  }

  const cronLogger = {
    info: (message: string) => log.info(message),
    warn: (message: string) => log.warn(message),
    error: (message: string | Error, err?: Error) => log.error({ err: err ?? message }, 'node-cron error'),
    debug: (message: string | Error) => log.debug({ detail: String(message) }, 'node-cron'),
  };

  return {
    runTick,
    async runNow(jobName) {
      const job = o.jobs.find((j) => j.name === jobName);
      if (!job) throw new NotFoundError(`no scheduled job "${jobName}"`);
      const scheduledFor = o.clock.now();
      // This minimal version answers when the run has ended (wt/scheduler's answers at the claim).
      const outcome = await runTick(job, scheduledFor, true);
      if (outcome.outcome === 'skipped') return { outcome: 'skipped', runId: outcome.runId, reason: outcome.reason };
      if (outcome.outcome === 'taken') return { outcome: 'taken' };
      return { outcome: 'started', runId: outcome.runId, scheduledFor, done: Promise.resolve(outcome) };
    },
    isStarted: () => started,
    runningJobs: () => [...active.keys()],

    start() {
      if (started || stopping) return;
      started = true;
      for (const job of o.jobs) {
        if (!job.enabled) continue;
        const task = cron.schedule(job.cron, (ctx) => onFire(job, ctx.date), {
          name: `opsloop:${job.name}`,
          timezone: job.timezone,
          logger: cronLogger,
          // A tick is keyed by its minute, so a late one still agrees across replicas:
          // run it if the event loop was blocked for less than this. (node-cron: 1s)
          missedExecutionTolerance: MISSED_TICK_TOLERANCE_MS,
        });
        tasks.push(task);
      }
      log.info({ jobs: tasks.length }, 'scheduler started');
    },

    async stop(graceMs = 30_000) {
      stopping = true;
      for (const task of tasks.splice(0)) await task.destroy();
      const running = () => Promise.allSettled([...active.values()].map((a) => a.done));
      let timer: NodeJS.Timeout | undefined;
      const graceOver = await Promise.race([running().then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)))]);
      clearTimeout(timer);
      if (graceOver) {
        log.warn({ jobs: [...active.keys()] }, 'ticks still running after the grace period; aborting them');
        for (const a of active.values()) a.abort.abort(new Error('scheduler stopping'));
        await running();
      }
      if (started) log.info('scheduler stopped');
      started = false;
    },

    async status() {
      const rows = await o.prisma.$queryRaw<
        { job_name: string; scheduled_for: Date; runner: string; outcome: LastRun['outcome']; error: string | null; started_at: Date; finished_at: Date | null }[]
      >`
        SELECT DISTINCT ON (job_name) job_name, scheduled_for, runner, outcome, error, started_at, finished_at
        FROM ops_schedule_runs
        WHERE job_name = ANY(${o.jobs.map((j) => j.name)}::text[])
        ORDER BY job_name, scheduled_for DESC`;
      const last = new Map(rows.map((r) => [r.job_name, r]));
      const now = o.clock.now();
      return o.jobs.map((job): JobStatus => {
        const r = last.get(job.name);
        return {
          name: job.name,
          cron: job.cron,
          timezone: job.timezone,
          enabled: job.enabled,
          run: 'internal' in job.run ? 'internal' : 'proposal',
          target: 'internal' in job.run ? job.run.internal : job.run.proposal.title,
          running: active.has(job.name),
          lastRun: r
            ? { scheduledFor: r.scheduled_for, runner: r.runner, outcome: r.outcome, error: r.error, startedAt: r.started_at, finishedAt: r.finished_at }
            : null,
          nextRunAt: job.enabled ? nextFireTime(fields.get(job.name)!, job.timezone, now) : null,
        };
      });
    },
  };
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

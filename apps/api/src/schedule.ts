import { hostname } from 'node:os';
import type { Config, Logger } from '@opsloop/core';
import {
  createScheduler,
  dailySummary,
  formatDailySummary,
  heartbeatPhases,
  loadScheduleFile,
  localDate,
  runHeartbeat,
  submitScheduledProposal,
  type HeartbeatDeps,
  type InternalJob,
  type InternalJobs,
  type Scheduler,
  type ScheduleJob,
  type WakeTimers,
  type RetentionResult,
} from '@opsloop/ops';
import type { BackupRunResult } from '@opsloop/backup';

/** What an internal job may use; built once per process in service.ts. */
export interface InternalJobDeps {
  ops: HeartbeatDeps;
  config: Config;
  /** Backups and retention (packages/backup, packages/ops/retention); absent: those jobs skip. */
  housekeeping?: Housekeeping;
}

/** The housekeeping jobs' bodies, wired in service.ts (they need the backup destination). */
export interface Housekeeping {
  /** Gated on readiness: `skipped` with the reason when the service is not ready. */
  backup(signal: AbortSignal): Promise<BackupRunResult>;
  retention(signal: AbortSignal): Promise<RetentionResult>;
}

/**
 * The internal jobs schedule.yaml may name (`run: { internal: <name> }`). To add one,
 * add an entry: a function of the process's deps returning { run, catchUp? }, where
 * run(ctx) resolves to { status: 'succeeded', detail? } or { status: 'skipped', reason,
 * detail? } when it did nothing, and throws when it failed. catchUp is the default for
 * entries that set no `catch_up:` (backup-like jobs: 'latest').
 */
export const INTERNAL_JOB_REGISTRY: Readonly<Record<string, (deps: InternalJobDeps) => InternalJob>> = {
  heartbeat: ({ ops }) => {
    const phases = heartbeatPhases(ops);
    return {
      async run() {
        const outcome = await runHeartbeat(ops, phases, 'scheduler');
        if (outcome.status === 'already_running') {
          return { status: 'skipped', reason: 'another heartbeat is running', detail: { startedAt: outcome.startedAt } };
        }
        const failed = outcome.phases.filter((p) => !p.ok).map((p) => `${p.name}: ${p.error}`);
        if (failed.length === outcome.phases.length && failed.length > 0) throw new Error(`every heartbeat phase failed (${failed.join('; ')})`);
        return { status: 'succeeded', detail: { heartbeatRunId: outcome.runId, failedPhases: failed } };
      },
    };
  },
  'ops-daily-summary': ({ ops }) => ({
    catchUp: 'latest',
    async run({ scheduledFor }) {
      // At 06:00 the day just ended is the one worth reading (also for a catch-up at 06:20).
      const date = localDate(new Date(scheduledFor.getTime() - 86_400_000), ops.timeZone);
      if (!ops.sink) return { status: 'skipped', reason: 'no Slack webhook (SLACK_WEBHOOK_URL is not set)', detail: { date } };
      const summary = await dailySummary(ops, date);
      await ops.sink.send(formatDailySummary(summary, ops));
      return { status: 'succeeded', detail: { date: summary.date, posted: true } };
    },
  }),
  // 00:00 Asia/Tokyo: not ready (starting, migrations pending, database down) is a
  // `skipped` run with the reason, and the next tick tries again; after downtime the
  // missed backup runs once at start-up.
  backup: ({ housekeeping }) => ({
    catchUp: 'latest',
    async run({ signal }) {
      if (!housekeeping) return { status: 'skipped', reason: 'backups are not wired in this process' };
      const result = await housekeeping.backup(signal);
      if (result.status === 'skipped') return { status: 'skipped', reason: result.reason };
      return { status: 'succeeded', detail: { name: result.name, location: result.location, sizeBytes: result.sizeBytes, rows: result.manifest.totalRows, pruned: result.pruned } };
    },
  }),
  retention: ({ housekeeping }) => ({
    async run({ signal }) {
      if (!housekeeping) return { status: 'skipped', reason: 'retention is not wired in this process' };
      const result = await housekeeping.retention(signal);
      // `pruned` per kind is what the daily summary adds up.
      return { status: 'succeeded', detail: result };
    },
  }),
};

export const INTERNAL_JOBS = Object.keys(INTERNAL_JOB_REGISTRY);

/** Loads schedule.yaml; a broken file throws a ScheduleError naming the line. */
export function loadSchedule(config: Pick<Config, 'SCHEDULE_FILE'>): Promise<ScheduleJob[]> {
  return loadScheduleFile(config.SCHEDULE_FILE, { internalJobs: INTERNAL_JOBS });
}

/** The scheduler that runs the schedule's jobs in this process. */
export function buildScheduler(
  jobs: ScheduleJob[],
  config: Config,
  deps: HeartbeatDeps,
  logger: Logger,
  o: { timers?: WakeTimers; housekeeping?: Housekeeping } = {},
): Scheduler {
  const internalJobs: InternalJobs = Object.fromEntries(
    Object.entries(INTERNAL_JOB_REGISTRY).map(([name, make]) => [name, make({ ops: deps, config, housekeeping: o.housekeeping })]),
  );
  const submit = submitScheduledProposal(deps);
  return createScheduler({
    jobs,
    prisma: deps.prisma,
    pool: deps.pool,
    clock: deps.clock,
    logger,
    runner: `${hostname()}:${process.pid}`,
    internalJobs,
    timers: o.timers,
    async submitProposal(job, scheduledFor) {
      // Without a key every Moltbook step would fail; skip the cycle and say why.
      if ('proposal' in job.run && job.run.proposal.skill === 'moltbook_engagement' && !config.MOLTBOOK_API_KEY) {
        return { status: 'skipped', reason: 'MOLTBOOK_API_KEY is not set' };
      }
      return submit(job, scheduledFor);
    },
  });
}

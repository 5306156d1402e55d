import { hostname } from 'node:os';
import type { Config, Logger } from '@opsloop/core';
import {
  createProposal,
  createScheduler,
  dailySummary,
  formatDailySummary,
  heartbeatPhases,
  loadScheduleFile,
  localDate,
  proposalFromJob,
  runHeartbeat,
  type HeartbeatDeps,
  type Scheduler,
  type ScheduleJob,
} from '@opsloop/ops';

/** The internal jobs schedule.yaml may name. */
export const INTERNAL_JOBS = ['heartbeat', 'ops-daily-summary'] as const;

/** Loads schedule.yaml; a broken file throws a ScheduleError naming the line. */
export function loadSchedule(config: Pick<Config, 'SCHEDULE_FILE'>): Promise<ScheduleJob[]> {
  return loadScheduleFile(config.SCHEDULE_FILE, { internalJobs: INTERNAL_JOBS });
}

/** The scheduler that runs the schedule's jobs in this process. */
export function buildScheduler(jobs: ScheduleJob[], config: Pick<Config, 'MOLTBOOK_API_KEY'>, deps: HeartbeatDeps, logger: Logger): Scheduler {
  const phases = heartbeatPhases(deps);
  return createScheduler({
    jobs,
    prisma: deps.prisma,
    clock: deps.clock,
    logger,
    runner: `${hostname()}:${process.pid}`,
    async runInternal(name) {
      switch (name) {
        case 'heartbeat':
          return runHeartbeat(deps, phases, 'scheduler');
        case 'ops-daily-summary': {
          // At 06:00 the day just ended is the one worth reading.
          const yesterday = localDate(new Date(deps.clock.now().getTime() - 86_400_000), deps.timeZone);
          const summary = await dailySummary(deps, yesterday);
          if (deps.sink) await deps.sink.send(formatDailySummary(summary, deps));
          return { date: summary.date, posted: Boolean(deps.sink) };
        }
        default:
          throw new Error(`unknown internal job ${name}`);
      }
    },
    async submitProposal(job, scheduledFor) {
      const input = proposalFromJob(job, scheduledFor);
      // Without a key every Moltbook step would fail; skip the cycle and say why.
      if (input.skill === 'moltbook_engagement' && !config.MOLTBOOK_API_KEY) return { skipped: 'MOLTBOOK_API_KEY is not set' };
      const { proposal, created } = await createProposal(deps, input);
      return { proposalId: proposal!.id, status: proposal!.status, missionId: proposal!.missionId, deduplicated: !created };
    },
  });
}

import type { Clock } from '@opsloop/core';
import type { PrismaClient } from '@opsloop/db';
import { ownerGone } from './abandonedTicks.ts';

/** Why a run was started: its cron tick, the catch-up of a missed tick, or a person. */
export type RunCause = 'schedule' | 'catch_up' | 'manual';

export interface ClaimTickInput {
  jobName: string;
  /** The tick's minute (a manual run: the instant it was asked for); with jobName, the key every replica derives alike. */
  scheduledFor: Date;
  runner: string;
  /** The claiming scheduler's owner lock key (ownerSession.ts). */
  ownerKey: number;
  cause: RunCause;
  requestedBy?: string;
  /** A `running` row without an owner key blocks the job for this long after it started. */
  ownerlessStaleMs: number;
}

export const PREVIOUS_RUN_RUNNING = 'previous run still running';

export type ClaimTickResult =
  | { claimed: true; runId: string; abandoned: number }
  | { claimed: false; skipped: { runId: string; reason: string; runner: string }; abandoned: number }
  | { claimed: false; skipped?: undefined; abandoned: number };

/**
 * Claims one tick of a job for this runner, once across all replicas: the UNIQUE
 * (job_name, scheduled_for) key lets exactly one INSERT win; the losers get no row
 * (ON CONFLICT waits for a concurrent insert to commit, then does nothing).
 *
 * In the same statement:
 * - the job's `running` rows whose owner is gone are marked `abandoned` (and no longer
 *   block it);
 * - another `running` row of the job, owned by a live scheduler, turns the claim into a
 *   `skipped` row, so a slow job never runs twice at once, even across replicas.
 */
export async function claimTick(deps: { prisma: PrismaClient; clock: Clock }, o: ClaimTickInput): Promise<ClaimTickResult> {
  const now = deps.clock.now();
  const ownerlessBefore = new Date(now.getTime() - o.ownerlessStaleMs);
  const [row] = await deps.prisma.$queryRaw<{ id: bigint | null; outcome: string | null; busy_runner: string | null; abandoned: number }[]>`
    WITH abandoned AS (
      UPDATE ops_schedule_runs r
      SET outcome = 'abandoned', finished_at = ${now}::timestamptz, reason = 'its scheduler (' || r.runner || ') is gone'
      WHERE r.job_name = ${o.jobName} AND r.outcome = 'running' AND ${ownerGone(ownerlessBefore)}
      RETURNING r.id
    ), busy AS (
      SELECT runner, scheduled_for FROM ops_schedule_runs
      WHERE job_name = ${o.jobName} AND outcome = 'running' AND scheduled_for <> ${o.scheduledFor}::timestamptz
        AND id NOT IN (SELECT id FROM abandoned)
      ORDER BY scheduled_for DESC
      LIMIT 1
    ), claimed AS (
      INSERT INTO ops_schedule_runs (job_name, scheduled_for, runner, owner_key, cause, requested_by, outcome, reason, details, started_at, finished_at)
      SELECT ${o.jobName}, ${o.scheduledFor}::timestamptz, ${o.runner}, ${o.ownerKey}::int, ${o.cause}, ${o.requestedBy ?? null}::text,
             CASE WHEN busy.runner IS NULL THEN 'running' ELSE 'skipped' END,
             CASE WHEN busy.runner IS NULL THEN NULL ELSE ${PREVIOUS_RUN_RUNNING} END,
             CASE WHEN busy.runner IS NULL THEN NULL
                  ELSE jsonb_build_object('runner', busy.runner, 'scheduledFor', busy.scheduled_for) END,
             ${now}::timestamptz,
             CASE WHEN busy.runner IS NULL THEN NULL ELSE ${now}::timestamptz END
      FROM (SELECT 1) AS one LEFT JOIN busy ON true
      ON CONFLICT (job_name, scheduled_for) DO NOTHING
      RETURNING id, outcome
    )
    SELECT claimed.id, claimed.outcome, (SELECT runner FROM busy) AS busy_runner, (SELECT count(*)::int FROM abandoned) AS abandoned
    FROM (SELECT 1) AS one LEFT JOIN claimed ON true`;
  const abandoned = row?.abandoned ?? 0;
  if (!row?.id) return { claimed: false, abandoned };
  if (row.outcome === 'running') return { claimed: true, runId: String(row.id), abandoned };
  return { claimed: false, skipped: { runId: String(row.id), reason: PREVIOUS_RUN_RUNNING, runner: row.busy_runner ?? 'unknown' }, abandoned };
}

/**
 * Records a tick this process skipped without claiming it first (it is still running the
 * job's previous tick). Also claims the tick, so no other replica runs it. Returns the
 * row id, or null when another replica had already claimed the tick.
 */
export async function recordSkippedTick(
  deps: { prisma: PrismaClient; clock: Clock },
  o: { jobName: string; scheduledFor: Date; runner: string; cause: RunCause; requestedBy?: string; reason: string },
): Promise<string | null> {
  const now = deps.clock.now();
  const [row] = await deps.prisma.$queryRaw<{ id: bigint }[]>`
    INSERT INTO ops_schedule_runs (job_name, scheduled_for, runner, cause, requested_by, outcome, reason, started_at, finished_at)
    VALUES (${o.jobName}, ${o.scheduledFor}::timestamptz, ${o.runner}, ${o.cause}, ${o.requestedBy ?? null}::text, 'skipped', ${o.reason},
            ${now}::timestamptz, ${now}::timestamptz)
    ON CONFLICT (job_name, scheduled_for) DO NOTHING
    RETURNING id`;
  return row ? String(row.id) : null;
}

/** The latest tick of the job the schedule fired (manual runs aside), from any replica. */
export async function lastScheduledTick(deps: { prisma: PrismaClient }, jobName: string): Promise<Date | null> {
  const [row] = await deps.prisma.$queryRaw<{ at: Date | null }[]>`
    SELECT max(scheduled_for) AS at FROM ops_schedule_runs WHERE job_name = ${jobName} AND cause <> 'manual'`;
  return row?.at ?? null;
}

import type { Clock } from '@opsloop/core';
import type { PrismaClient } from '@opsloop/db';

export interface ClaimTickInput {
  jobName: string;
  /** The tick's minute; with jobName, the key every replica derives alike. */
  scheduledFor: Date;
  runner: string;
  /**
   * A previous tick of the job still `running` and started less than this long ago
   * means another replica (or this one) is still on it: this tick is recorded as skipped.
   */
  staleRunningMs: number;
}

export type ClaimTickResult =
  | { claimed: true; runId: string }
  | { claimed: false; skipped: { runId: string; reason: string; runner: string } }
  | { claimed: false; skipped?: undefined };

/**
 * Claims one tick of a job for this runner, once across all replicas: the UNIQUE
 * (job_name, scheduled_for) key lets exactly one INSERT win; the losers get no row
 * (ON CONFLICT waits for a concurrent insert to commit, then does nothing).
 *
 * In the same statement, a previous tick still `running` (started within
 * `staleRunningMs`) turns the claim into a `skipped` row, so a slow job never runs twice
 * at once, even across replicas. Older `running` rows are taken as abandoned (their
 * replica died mid-run) and no longer block the job.
 */
export async function claimTick(deps: { prisma: PrismaClient; clock: Clock }, o: ClaimTickInput): Promise<ClaimTickResult> {
  const now = deps.clock.now();
  const busySince = new Date(now.getTime() - o.staleRunningMs);
  const [row] = await deps.prisma.$queryRaw<{ id: bigint; outcome: string; busy_runner: string | null }[]>`
    WITH busy AS (
      SELECT runner, scheduled_for FROM ops_schedule_runs
      WHERE job_name = ${o.jobName} AND outcome = 'running'
        AND scheduled_for < ${o.scheduledFor}::timestamptz AND started_at > ${busySince}::timestamptz
      ORDER BY scheduled_for DESC
      LIMIT 1
    )
    INSERT INTO ops_schedule_runs (job_name, scheduled_for, runner, outcome, details, started_at, finished_at)
    SELECT ${o.jobName}, ${o.scheduledFor}::timestamptz, ${o.runner},
           CASE WHEN busy.runner IS NULL THEN 'running' ELSE 'skipped' END,
           CASE WHEN busy.runner IS NULL THEN NULL
                ELSE jsonb_build_object('reason', 'previous run still running', 'runner', busy.runner, 'scheduledFor', busy.scheduled_for) END,
           ${now}::timestamptz,
           CASE WHEN busy.runner IS NULL THEN NULL ELSE ${now}::timestamptz END
    FROM (SELECT 1) AS one LEFT JOIN busy ON true
    ON CONFLICT (job_name, scheduled_for) DO NOTHING
    RETURNING id, outcome, (SELECT runner FROM busy) AS busy_runner`;
  if (!row) return { claimed: false };
  if (row.outcome === 'running') return { claimed: true, runId: String(row.id) };
  return { claimed: false, skipped: { runId: String(row.id), reason: 'previous run still running', runner: row.busy_runner ?? 'unknown' } };
}

/**
 * Records a tick this process skipped because it is still running the job's previous
 * tick. Also claims the tick, so no other replica runs it. Returns the row id, or null
 * when another replica had already claimed the tick.
 */
export async function recordSkippedTick(
  deps: { prisma: PrismaClient; clock: Clock },
  o: { jobName: string; scheduledFor: Date; runner: string; reason: string },
): Promise<string | null> {
  const now = deps.clock.now();
  const [row] = await deps.prisma.$queryRaw<{ id: bigint }[]>`
    INSERT INTO ops_schedule_runs (job_name, scheduled_for, runner, outcome, details, started_at, finished_at)
    VALUES (${o.jobName}, ${o.scheduledFor}::timestamptz, ${o.runner}, 'skipped', jsonb_build_object('reason', ${o.reason}::text),
            ${now}::timestamptz, ${now}::timestamptz)
    ON CONFLICT (job_name, scheduled_for) DO NOTHING
    RETURNING id`;
  return row ? String(row.id) : null;
}

import type { Clock } from '@opsloop/core';
import { Prisma, type PrismaClient } from '@opsloop/db';
import { OWNER_LOCK_NAMESPACE } from './ownerSession.ts';

/**
 * A `running` row of ops_schedule_runs (aliased `r`) whose owner is gone: its scheduler's
 * session lock is no longer in pg_locks (advisory locks are per database, hence the
 * database filter). Rows without an owner key were claimed by a scheduler that recorded
 * none; they count as gone once older than `ownerlessBefore`.
 */
export function ownerGone(ownerlessBefore: Date): Prisma.Sql {
  return Prisma.sql`(
    (r.owner_key IS NULL AND r.started_at < ${ownerlessBefore}::timestamptz)
    OR (r.owner_key IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM pg_locks l
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid::bigint = ${OWNER_LOCK_NAMESPACE}::bigint AND l.objid::bigint = r.owner_key)))`;
}

export interface AbandonedTick {
  runId: string;
  jobName: string;
  scheduledFor: Date;
  runner: string;
}

/** Marks every `running` tick whose owner is gone `abandoned`, with the reason. */
export async function markAbandonedTicks(deps: { prisma: PrismaClient; clock: Clock }, o: { ownerlessStaleMs: number }): Promise<AbandonedTick[]> {
  const now = deps.clock.now();
  const rows = await deps.prisma.$queryRaw<{ id: bigint; job_name: string; scheduled_for: Date; runner: string }[]>`
    UPDATE ops_schedule_runs r
    SET outcome = 'abandoned', finished_at = ${now}::timestamptz, reason = 'its scheduler (' || r.runner || ') is gone'
    WHERE r.outcome = 'running' AND ${ownerGone(new Date(now.getTime() - o.ownerlessStaleMs))}
    RETURNING r.id, r.job_name, r.scheduled_for, r.runner`;
  return rows.map((r) => ({ runId: String(r.id), jobName: r.job_name, scheduledFor: r.scheduled_for, runner: r.runner }));
}

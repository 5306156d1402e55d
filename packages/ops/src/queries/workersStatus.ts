import type { PrismaClient } from '@opsloop/db';
import { workerProcesses } from './workerProcesses.ts';

/** What GET /api/ops/workers/status shows an operator. */
export async function workersStatus(prisma: PrismaClient, now: Date) {
  const since = new Date(now.getTime() - 86_400_000);
  const [byStatus, queue, leases, processes] = await Promise.all([
    prisma.$queryRaw<{ status: string; count: number }[]>`
      SELECT status, count(*)::int AS count FROM ops_mission_steps WHERE updated_at >= ${since}::timestamptz GROUP BY status ORDER BY status`,
    prisma.$queryRaw<{ kind: string; depth: number; oldest_run_after: Date }[]>`
      SELECT kind, count(*)::int AS depth, min(run_after) AS oldest_run_after FROM ops_mission_steps
      WHERE status = 'queued' GROUP BY kind ORDER BY kind`,
    prisma.$queryRaw<{ worker: string; leases: number; earliest_expiry: Date }[]>`
      SELECT lease_owner AS worker, count(*)::int AS leases, min(lease_expires_at) AS earliest_expiry FROM ops_mission_steps
      WHERE status = 'running' GROUP BY lease_owner ORDER BY lease_owner`,
    workerProcesses(prisma, now),
  ]);
  const oldest = queue.reduce<Date | undefined>((min, q) => (!min || q.oldest_run_after < min ? q.oldest_run_after : min), undefined);
  return {
    last24h: Object.fromEntries(byStatus.map((r) => [r.status, r.count])),
    queueDepthByKind: Object.fromEntries(queue.map((q) => [q.kind, q.depth])),
    queueByKind: queue.map((q) => ({ kind: q.kind, depth: q.depth, oldestQueuedAgeSeconds: Math.max(0, Math.round((now.getTime() - q.oldest_run_after.getTime()) / 1000)) })),
    oldestQueuedAgeSeconds: oldest ? Math.max(0, Math.round((now.getTime() - oldest.getTime()) / 1000)) : null,
    activeLeases: leases.map((l) => ({ workerId: l.worker, leases: l.leases, earliestExpiry: l.earliest_expiry })),
    /** Each process's latest system sample (live, or gone after 3 silent minutes). */
    processes,
  };
}

import type { PrismaClient } from '@opsloop/db';

/** A process that has not sampled for this long is reported gone. */
export const WORKER_GONE_AFTER_MS = 3 * 60_000;

/**
 * Each process seen in the last 24 h with its latest system sample; `status` is `gone`
 * once it has been silent for 3 minutes (one sample a minute: three missed).
 */
export async function workerProcesses(prisma: PrismaClient, now: Date) {
  const since = new Date(now.getTime() - 86_400_000);
  const rows = await prisma.$queryRaw<
    { worker_id: string; host: string; pid: number; cpu_percent: number; rss_bytes: bigint; heap_used_bytes: bigint; heap_total_bytes: bigint; event_loop_lag_p99_ms: number; active_steps: number; created_at: Date }[]
  >`
    SELECT DISTINCT ON (worker_id) worker_id, host, pid, cpu_percent, rss_bytes, heap_used_bytes, heap_total_bytes, event_loop_lag_p99_ms, active_steps, created_at
    FROM ops_system_metrics WHERE created_at >= ${since}::timestamptz
    ORDER BY worker_id, created_at DESC`;
  return rows.map((r) => ({
    workerId: r.worker_id,
    host: r.host,
    pid: r.pid,
    status: now.getTime() - r.created_at.getTime() >= WORKER_GONE_AFTER_MS ? ('gone' as const) : ('live' as const),
    lastSampleAt: r.created_at,
    cpuPercent: r.cpu_percent,
    rssBytes: Number(r.rss_bytes),
    heapUsedBytes: Number(r.heap_used_bytes),
    heapTotalBytes: Number(r.heap_total_bytes),
    eventLoopLagP99Ms: r.event_loop_lag_p99_ms,
    activeSteps: r.active_steps,
  }));
}

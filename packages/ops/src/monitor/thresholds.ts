import type { Logger } from '@opsloop/core';
import type { Prisma } from '@opsloop/db';
import { raiseAlert } from '../heartbeat/alerts.ts';
import { quantileFromBuckets } from '../metrics/httpWindow.ts';
import { WORKER_GONE_AFTER_MS } from '../queries/workerProcesses.ts';
import type { MonitorThresholds } from '../policy/schemas.ts';

export type ThresholdName = 'memory' | 'cpu' | 'http_5xx_rate' | 'http_p95' | 'queue_age' | 'backup_age';

export interface Measurement {
  name: ThresholdName;
  breached: boolean;
  /** The measured value (MB, %, ratio, seconds, minutes, hours), or null without data. */
  value: number | null;
  limit: number;
  text: string;
}

/** Measures every threshold from stored samples and the database (any replica can). */
export async function measureThresholds(tx: Prisma.TransactionClient, t: MonitorThresholds, now: Date): Promise<Measurement[]> {
  const liveSince = new Date(now.getTime() - WORKER_GONE_AFTER_MS);
  const windowSince = new Date(now.getTime() - t.http_window_minutes * 60_000);
  const [latest, cpu, http, queue, backup] = await Promise.all([
    tx.$queryRaw<{ worker_id: string; rss_mb: number }[]>`
      SELECT DISTINCT ON (worker_id) worker_id, rss_bytes / 1048576.0 AS rss_mb FROM ops_system_metrics
      WHERE created_at > ${liveSince}::timestamptz AND created_at <= ${now}::timestamptz ORDER BY worker_id, created_at DESC`,
    tx.$queryRaw<{ worker_id: string; min_cpu: number; n: number }[]>`
      SELECT worker_id, min(cpu_percent) AS min_cpu, count(*)::int AS n FROM (
        SELECT worker_id, cpu_percent, row_number() OVER (PARTITION BY worker_id ORDER BY created_at DESC) AS rn
        FROM ops_system_metrics
        WHERE created_at > ${new Date(now.getTime() - (t.cpu_samples + 2) * 60_000)}::timestamptz AND created_at <= ${now}::timestamptz
          AND worker_id IN (SELECT worker_id FROM ops_system_metrics WHERE created_at > ${liveSince}::timestamptz)
      ) s WHERE rn <= ${t.cpu_samples} GROUP BY worker_id`,
    tx.$queryRaw<{ requests: number; errors: number; buckets: { le: number | '+Inf'; n: number }[] | null }[]>`
      SELECT coalesce(sum(http_requests), 0)::int AS requests, coalesce(sum(http_errors), 0)::int AS errors,
             (SELECT jsonb_agg(jsonb_build_object('le', le, 'n', n) ORDER BY ord) FROM (
                SELECT b.ord, (array_agg(b.elem -> 'le'))[1] AS le, sum((b.elem ->> 'n')::int)::int AS n
                FROM ops_system_metrics m CROSS JOIN LATERAL jsonb_array_elements(m.http_duration_buckets) WITH ORDINALITY AS b(elem, ord)
                WHERE m.created_at > ${windowSince}::timestamptz AND m.created_at <= ${now}::timestamptz GROUP BY b.ord) x) AS buckets
      FROM ops_system_metrics WHERE created_at > ${windowSince}::timestamptz AND created_at <= ${now}::timestamptz`,
    tx.$queryRaw<{ oldest: Date | null }[]>`
      SELECT min(run_after) AS oldest FROM ops_mission_steps WHERE status = 'queued' AND run_after <= ${now}::timestamptz`,
    tx.$queryRaw<{ last: Date | null; installed: Date | null }[]>`
      SELECT (SELECT max(finished_at) FROM ops_backups WHERE status = 'succeeded') AS last,
             (SELECT min(run_at) FROM schemaversion) AS installed`,
  ]);

  const worstRss = latest.reduce<{ worker_id: string; rss_mb: number } | undefined>((w, r) => (!w || Number(r.rss_mb) > Number(w.rss_mb) ? r : w), undefined);
  const hotCpu = cpu.filter((c) => c.n >= t.cpu_samples).sort((a, b) => b.min_cpu - a.min_cpu)[0];
  const h = http[0]!;
  const rate = h.requests > 0 ? h.errors / h.requests : null;
  const p95 = h.buckets ? quantileFromBuckets(h.buckets, 0.95) : null;
  const queueMinutes = queue[0]!.oldest ? (now.getTime() - queue[0]!.oldest.getTime()) / 60_000 : null;
  const { last, installed } = backup[0]!;
  // Never backed up: counted from when the database was first migrated.
  const since = last ?? installed;
  const backupHours = since ? (now.getTime() - since.getTime()) / 3_600_000 : null;
  const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

  return [
    {
      name: 'memory',
      breached: worstRss !== undefined && Number(worstRss.rss_mb) > t.memory_mb,
      value: worstRss ? round(Number(worstRss.rss_mb)) : null,
      limit: t.memory_mb,
      text: `memory ${worstRss ? round(Number(worstRss.rss_mb)) : '?'} MB RSS on ${worstRss?.worker_id ?? '?'} (limit ${t.memory_mb} MB)`,
    },
    {
      name: 'cpu',
      breached: hotCpu !== undefined && hotCpu.min_cpu > t.cpu_percent,
      value: hotCpu ? round(hotCpu.min_cpu) : null,
      limit: t.cpu_percent,
      text: `CPU above ${hotCpu ? round(hotCpu.min_cpu) : '?'} % for ${t.cpu_samples} samples on ${hotCpu?.worker_id ?? '?'} (limit ${t.cpu_percent} %)`,
    },
    {
      name: 'http_5xx_rate',
      breached: rate !== null && h.requests >= t.http_min_requests && rate > t.http_5xx_rate,
      value: rate === null ? null : round(rate, 4),
      limit: t.http_5xx_rate,
      text: `HTTP 5xx rate ${rate === null ? '?' : round(rate * 100)} % (${h.errors}/${h.requests}) over ${t.http_window_minutes} min (limit ${round(t.http_5xx_rate * 100)} %)`,
    },
    {
      name: 'http_p95',
      breached: p95 !== null && p95 > t.p95_seconds,
      value: p95 === null ? null : round(p95, 3),
      limit: t.p95_seconds,
      text: `p95 response time ${p95 === null ? '?' : round(p95, 2)} s over ${t.http_window_minutes} min (limit ${t.p95_seconds} s)`,
    },
    {
      name: 'queue_age',
      breached: queueMinutes !== null && queueMinutes > t.queue_age_minutes,
      value: queueMinutes === null ? null : round(queueMinutes),
      limit: t.queue_age_minutes,
      text: `oldest queued step waiting ${queueMinutes === null ? '?' : round(queueMinutes)} min (limit ${t.queue_age_minutes} min)`,
    },
    {
      name: 'backup_age',
      breached: backupHours !== null && backupHours > t.backup_max_age_hours,
      value: backupHours === null ? null : round(backupHours),
      limit: t.backup_max_age_hours,
      text: last
        ? `no successful backup for ${round(backupHours!)} h (limit ${t.backup_max_age_hours} h)`
        : `no successful backup ever, ${backupHours === null ? '?' : round(backupHours)} h since install (limit ${t.backup_max_age_hours} h)`,
    },
  ];
}

/**
 * Turns measurements into alerts, once per breach: a new breach opens a row in
 * ops_monitor_breaches and raises `threshold:<name>` (unless one was raised within the
 * cooldown: flapping stays quiet); while it lasts nothing repeats; when it clears the row
 * goes and, if its breach was alerted, `threshold:<name>:resolved` is raised. Call under
 * the ops monitor lock (checkOpsHealth holds it).
 */
export async function evaluateThresholds(
  tx: Prisma.TransactionClient,
  deps: { logger: Logger },
  t: MonitorThresholds,
  o: { now: Date; cooldownMinutes: number },
): Promise<{ breached: ThresholdName[]; alerted: ThresholdName[]; resolved: ThresholdName[] }> {
  const out = { breached: [] as ThresholdName[], alerted: [] as ThresholdName[], resolved: [] as ThresholdName[] };
  if (!t.enabled) return out;
  const open = new Map((await tx.opsMonitorBreach.findMany()).map((b) => [b.name, b]));
  const cooldownSince = new Date(o.now.getTime() - o.cooldownMinutes * 60_000);
  for (const m of await measureThresholds(tx, t, o.now)) {
    const row = open.get(m.name);
    if (m.breached) {
      out.breached.push(m.name);
      if (row) continue;
      const kind = `threshold:${m.name}`;
      const recent = await tx.opsAlert.count({ where: { kind, createdAt: { gt: cooldownSince } } });
      deps.logger.warn({ threshold: m.name, value: m.value, limit: m.limit, alerted: recent === 0 }, `monitor threshold breached: ${m.text}`);
      const alertId = recent
        ? null
        : await raiseAlert(tx, { kind, message: `:warning: opsloop: ${m.text}.`, payload: { threshold: m.name, state: 'breached', value: m.value, limit: m.limit } }, o.now);
      if (alertId !== null) out.alerted.push(m.name);
      await tx.opsMonitorBreach.create({ data: { name: m.name, openedAt: o.now, value: m.value, alertId: alertId === null ? null : BigInt(alertId), details: { text: m.text } } });
    } else if (row) {
      await tx.opsMonitorBreach.delete({ where: { name: m.name } });
      if (row.alertId === null) continue;
      out.resolved.push(m.name);
      deps.logger.info({ threshold: m.name, value: m.value, limit: m.limit }, `monitor threshold resolved: ${m.name}`);
      const minutes = Math.round((o.now.getTime() - row.openedAt.getTime()) / 60_000);
      await raiseAlert(
        tx,
        { kind: `threshold:${m.name}:resolved`, message: `:white_check_mark: opsloop: resolved after ${minutes} min: ${m.text}.`, payload: { threshold: m.name, state: 'resolved', value: m.value, limit: m.limit, breachedAt: row.openedAt } },
        o.now,
      );
    }
  }
  return out;
}

import type { PrismaClient } from '@opsloop/db';
import type { Clock } from '@opsloop/core';
import type { PolicyReader } from '../policy/readPolicy.ts';
import { heartbeatMissingMinutes } from './checkOpsHealth.ts';
import type { SummarySection, Workload } from '../workload.ts';

export interface DailySummaryDeps {
  prisma: PrismaClient;
  clock: Clock;
  timeZone: string;
  policy: PolicyReader;
  /** Overrides `ops_monitor.heartbeat_missing_minutes`. (Default: the policy value) */
  heartbeatWindowMinutes?: number;
  /** Their summary sections appear under their keys, after the core's figures. */
  workloads?: readonly Workload[];
}

function summarySections(deps: Pick<DailySummaryDeps, 'workloads'>): SummarySection[] {
  const sections = (deps.workloads ?? []).flatMap((w) => w.summarySections ?? []);
  const keys = new Set<string>();
  for (const s of sections) {
    if (keys.has(s.key)) throw new Error(`summary section ${s.key} is registered twice`);
    keys.add(s.key);
  }
  return sections;
}

/** The calendar date (YYYY-MM-DD) of `at` in `timeZone`. */
export function localDate(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/**
 * What happened on one day in the configured time zone: proposals, missions and steps by
 * status, events, mission success rate, top failing step kinds, alerts, heartbeats (and
 * whether they went missing), then each workload's section.
 */
export async function dailySummary(deps: DailySummaryDeps, date?: string) {
  const now = deps.clock.now();
  const missingAfterMinutes = await heartbeatMissingMinutes(deps);
  const day = date ?? localDate(now, deps.timeZone);
  const tz = deps.timeZone;
  const [range] = await deps.prisma.$queryRaw<{ start: Date; end: Date }[]>`
    SELECT (${day}::date::timestamp AT TIME ZONE ${tz}) AS start, ((${day}::date + 1)::timestamp AT TIME ZONE ${tz}) AS "end"`;
  const { start, end } = range!;
  const byStatus = async (from: string) => {
    const rows = await deps.prisma.$queryRawUnsafe<{ status: string; n: number }[]>(
      `SELECT status, count(*)::int AS n FROM ${from} WHERE created_at >= $1 AND created_at < $2 GROUP BY status ORDER BY status`,
      start,
      end,
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  };
  const [proposals, missions, steps, counts, failing, heartbeat, sections] = await Promise.all([
    byStatus('ops_proposals'),
    byStatus('ops_missions'),
    // A mission's steps are written with it, in one statement and with its created_at, so
    // the day's steps are the day's missions' steps: found through the missions' created_at
    // index, where steps alone have none (it would cost a write on the step path) and were
    // scanned in full on every overview refresh. OFFSET 0 keeps the lookup per mission (by
    // its steps' key), which a planner short of statistics would turn into a full scan.
    byStatus(
      '(SELECT s.status, m.created_at FROM ops_missions m CROSS JOIN LATERAL (SELECT status FROM ops_mission_steps WHERE mission_id = m.id OFFSET 0) s) AS steps',
    ),
    deps.prisma.$queryRaw<{ events: number; alerts: number; heartbeats: number }[]>`
      SELECT (SELECT count(*)::int FROM ops_events WHERE created_at >= ${start} AND created_at < ${end}) AS events,
             (SELECT count(*)::int FROM ops_alerts WHERE created_at >= ${start} AND created_at < ${end}) AS alerts,
             (SELECT count(*)::int FROM ops_heartbeat_runs WHERE started_at >= ${start} AND started_at < ${end}) AS heartbeats`,
    deps.prisma.$queryRaw<{ kind: string; failures: number }[]>`
      SELECT kind, count(*)::int AS failures FROM ops_step_runs
      WHERE outcome IN ('failed', 'timed_out', 'lost') AND started_at >= ${start} AND started_at < ${end}
      GROUP BY kind ORDER BY failures DESC, kind LIMIT 5`,
    deps.prisma.opsHeartbeatRun.findFirst({ where: { finishedAt: { not: null } }, orderBy: { finishedAt: 'desc' }, select: { finishedAt: true, status: true } }),
    Promise.all(summarySections(deps).map(async (section) => [section.key, await section.collect(deps.prisma, { start, end })] as const)),
  ]);
  const care = await housekeeping(deps.prisma, start, end);
  const workloadSections: Record<string, unknown> = Object.fromEntries(sections);
  const finished = (missions.succeeded ?? 0) + (missions.failed ?? 0);
  const lastAt = heartbeat?.finishedAt ?? null;
  const core = {
    date: day,
    timeZone: tz,
    from: start,
    to: end,
    proposals,
    missions,
    steps,
    events: counts[0]!.events,
    missionSuccessRate: finished ? Number(((missions.succeeded ?? 0) / finished).toFixed(4)) : null,
    topFailingStepKinds: failing,
    alertsRaised: counts[0]!.alerts,
    heartbeat: {
      count: counts[0]!.heartbeats,
      lastAt,
      missing: !lastAt || now.getTime() - lastAt.getTime() > missingAfterMinutes * 60_000,
    },
    ...care,
    generatedAt: now,
  };
  const clash = Object.keys(workloadSections).find((key) => key in core);
  if (clash) throw new Error(`summary section ${clash} clashes with a key of the core summary`);
  return { ...core, ...workloadSections };
}

/** The core's figures; each workload section sits beside them under its key. */
export type DailySummary = Awaited<ReturnType<typeof dailySummary>> & Record<string, unknown>;

/** Backups and retention: the last successful backup ever (not only that day's), and what retention pruned that day. */
async function housekeeping(prisma: PrismaClient, start: Date, end: Date) {
  const [row] = await prisma.$queryRaw<
    { last: { name: string; finished_at: string; size_bytes: number; destination: string | null; location: string | null } | null; succeeded: number; failed: number; skipped: number; pruned: Record<string, number>[] | null }[]
  >`
    SELECT (SELECT to_jsonb(b) FROM (SELECT name, finished_at, size_bytes, destination, location FROM ops_backups
              WHERE status = 'succeeded' ORDER BY finished_at DESC LIMIT 1) b) AS last,
           (SELECT count(*)::int FROM ops_backups WHERE status = 'succeeded' AND started_at >= ${start} AND started_at < ${end}) AS succeeded,
           (SELECT count(*)::int FROM ops_backups WHERE status = 'failed' AND started_at >= ${start} AND started_at < ${end}) AS failed,
           (SELECT count(*)::int FROM ops_backups WHERE status = 'skipped' AND started_at >= ${start} AND started_at < ${end}) AS skipped,
           (SELECT jsonb_agg(details -> 'pruned') FROM ops_schedule_runs
             WHERE job_name = 'retention' AND outcome = 'succeeded' AND details ? 'pruned' AND started_at >= ${start} AND started_at < ${end}) AS pruned`;
  const pruned: Record<string, number> = {};
  for (const run of row!.pruned ?? []) for (const [k, v] of Object.entries(run)) pruned[k] = (pruned[k] ?? 0) + Number(v);
  const last = row!.last;
  return {
    backups: {
      lastSuccessful: last ? { name: last.name, finishedAt: new Date(last.finished_at), sizeBytes: Number(last.size_bytes), destination: last.destination, location: last.location } : null,
      succeeded: row!.succeeded,
      failed: row!.failed,
      skipped: row!.skipped,
    },
    /** Rows deleted by retention runs that day, per retention key. */
    retentionPruned: pruned,
  };
}

/** The summary as people read it in Slack. */
export function formatDailySummary(s: DailySummary, deps: Pick<DailySummaryDeps, 'workloads'> = {}): string {
  const list = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    `*opsloop daily summary — ${s.date} (${s.timeZone})*`,
    `Proposals: ${list(s.proposals)}`,
    `Missions: ${list(s.missions)}${s.missionSuccessRate === null ? '' : ` — success rate ${(s.missionSuccessRate * 100).toFixed(1)}%`}`,
    `Steps: ${list(s.steps)}`,
    `Top failing step kinds: ${s.topFailingStepKinds.map((f) => `${f.kind} ×${f.failures}`).join(', ') || 'none'}`,
    `Events: ${s.events} · Alerts raised: ${s.alertsRaised}`,
    `Backups: ${s.backups.succeeded} ok, ${s.backups.failed} failed, ${s.backups.skipped} skipped; last successful ${s.backups.lastSuccessful ? `${s.backups.lastSuccessful.finishedAt.toISOString()} (${(s.backups.lastSuccessful.sizeBytes / 1048576).toFixed(1)} MB, ${s.backups.lastSuccessful.destination})` : 'never — :warning:'}`,
    `Retention pruned: ${list(s.retentionPruned)}`,
    ...summarySections(deps)
      .filter((section) => section.key in s)
      .map((section) => section.format(s[section.key])),
    `Heartbeats: ${s.heartbeat.count}, last ${s.heartbeat.lastAt ? s.heartbeat.lastAt.toISOString() : 'never'}${s.heartbeat.missing ? ' — :warning: MISSING' : ''}`,
  ].join('\n');
}

import type { Logger } from '@opsloop/core';
import type { ProposalDeps } from '../proposals/createProposal.ts';
import { inTransaction } from '@opsloop/db';
import { deliverAlerts, raiseAlert, type AlertSink } from './alerts.ts';
import { evaluateThresholds } from '../monitor/thresholds.ts';

type Deps = Pick<ProposalDeps, 'prisma' | 'clock' | 'policy' | 'observer'> & { logger: Logger; sink?: AlertSink; heartbeatWindowMinutes?: number };

/**
 * How long without a completed heartbeat is an incident: HEARTBEAT_WINDOW_MINUTES when
 * the operator set it (it overrides the policy), else `ops_monitor.heartbeat_missing_minutes`.
 */
export async function heartbeatMissingMinutes(deps: Pick<ProposalDeps, 'prisma' | 'policy'> & { heartbeatWindowMinutes?: number }): Promise<number> {
  if (deps.heartbeatWindowMinutes !== undefined) return deps.heartbeatWindowMinutes;
  const { ops_monitor } = await deps.policy.read(deps.prisma, ['ops_monitor']);
  return ops_monitor.heartbeat_missing_minutes;
}

/**
 * Watches failure rates and the heartbeat itself. Step failures in the window at or over
 * `ops_monitor.failure_threshold` raise one alert; the cooldown is the last alert's row
 * in the database, checked under a lock, so restarts and replicas never spam. A gap
 * since the previous completed heartbeat longer than the window is an incident too.
 * Then every undelivered alert is sent (retrying earlier failures).
 */
export async function checkOpsHealth(deps: Deps) {
  const now = deps.clock.now();
  const { ops_monitor: m } = await deps.policy.read(deps.prisma, ['ops_monitor']);
  const missingAfterMinutes = deps.heartbeatWindowMinutes ?? m.heartbeat_missing_minutes;
  const since = new Date(now.getTime() - m.window_minutes * 60_000);
  const cooldownSince = new Date(now.getTime() - m.cooldown_minutes * 60_000);

  const raised = await inTransaction(deps.prisma, async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended('opsloop:ops_monitor', 0))`;
    const out: string[] = [];
    const [stats] = await tx.$queryRaw<{ failures: number; pending: number; kinds: { kind: string; n: number }[] | null }[]>`
      SELECT
        (SELECT count(*)::int FROM ops_step_runs WHERE outcome IN ('failed', 'timed_out', 'lost') AND finished_at > ${since}::timestamptz) AS failures,
        (SELECT count(*)::int FROM ops_proposals WHERE status = 'pending') AS pending,
        (SELECT jsonb_agg(k) FROM (SELECT kind, count(*)::int AS n FROM ops_step_runs
           WHERE outcome IN ('failed', 'timed_out', 'lost') AND finished_at > ${since}::timestamptz
           GROUP BY kind ORDER BY n DESC LIMIT 5) k) AS kinds`;
    const cooling = async (kind: string) =>
      (await tx.opsAlert.count({ where: { kind, createdAt: { gt: cooldownSince } } })) > 0;

    if (stats!.failures >= m.failure_threshold && !(await cooling('failure_rate'))) {
      const top = (stats!.kinds ?? []).map((k) => `${k.kind} ×${k.n}`).join(', ');
      await raiseAlert(
        tx,
        {
          kind: 'failure_rate',
          message: `:rotating_light: opsloop: ${stats!.failures} step failures in the last ${m.window_minutes} min (threshold ${m.failure_threshold}). Top: ${top || 'n/a'}. Pending proposals: ${stats!.pending}.`,
          payload: { failures: stats!.failures, windowMinutes: m.window_minutes, threshold: m.failure_threshold, pendingProposals: stats!.pending, topKinds: stats!.kinds ?? [] },
        },
        now,
      );
      out.push('failure_rate');
    }

    const [previous] = await tx.$queryRaw<{ finished_at: Date }[]>`
      SELECT finished_at FROM ops_heartbeat_runs WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1`;
    const gapMinutes = previous ? (now.getTime() - previous.finished_at.getTime()) / 60_000 : 0;
    if (gapMinutes > missingAfterMinutes && !(await cooling('heartbeat_missing'))) {
      await raiseAlert(
        tx,
        {
          kind: 'heartbeat_missing',
          message: `:warning: opsloop: no heartbeat for ${Math.round(gapMinutes)} min (window ${missingAfterMinutes} min) before this one. Is the heartbeat caller alive?`,
          payload: { gapMinutes: Math.round(gapMinutes), windowMinutes: missingAfterMinutes, lastFinishedAt: previous!.finished_at },
        },
        now,
      );
      out.push('heartbeat_missing');
    }
    const thresholds = await evaluateThresholds(tx, deps, m.thresholds, { now, cooldownMinutes: m.cooldown_minutes });
    return { failures: stats!.failures, pendingProposals: stats!.pending, raised: out, thresholds };
  });

  const delivery = await deliverAlerts(deps, now);
  return { ...raised, delivery };
}

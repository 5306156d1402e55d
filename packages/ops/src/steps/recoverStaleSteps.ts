import { inTransaction } from '@opsloop/db';
import type { OpsDeps } from '../types.ts';
import { writeEvents } from '../events.ts';
import { failStep } from './settleStep.ts';

/**
 * Running steps whose lease expired (the worker died or hung) are treated as a failed
 * attempt: re-queued with backoff while attempts remain, failed (and the mission
 * finalised) otherwise, through the same path as any failure. A step running with no
 * lease expiry at all counts as stale after `step_defaults.stale_after_minutes`; a step
 * whose worker keeps renewing its lease is never reclaimed, however long it runs.
 */
export async function recoverStaleSteps(deps: Pick<OpsDeps, 'prisma' | 'clock' | 'policy' | 'random' | 'observer'>, limit = 100): Promise<{ recovered: number }> {
  const now = deps.clock.now();
  const { step_defaults } = await deps.policy.read(deps.prisma, ['step_defaults']);
  const staleBefore = new Date(now.getTime() - step_defaults.stale_after_minutes * 60_000);
  return inTransaction(deps.prisma, async (tx) => {
    // Locked here, so a worker completing or renewing meanwhile waits for us (and then
    // finds its lease gone: 409), and a second recoverer skips these rows.
    const stale = await tx.$queryRaw<{ id: string; lease_token: string; skill: string; trace_id: string }[]>`
      SELECT id, lease_token, skill, trace_id FROM ops_mission_steps
      WHERE status = 'running'
        AND (lease_expires_at < ${now}::timestamptz OR (lease_expires_at IS NULL AND updated_at < ${staleBefore}::timestamptz))
      ORDER BY lease_expires_at LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`;
    for (const s of stale) {
      const result = await failStep(deps, { stepId: s.id, leaseToken: s.lease_token, error: 'lease expired: worker stopped heartbeating', outcome: 'lost' }, tx);
      await writeEvents(tx, [
        {
          kind: 'step:recovered',
          source: 'heartbeat',
          skill: s.skill,
          missionId: result.missionId,
          stepId: s.id,
          traceId: s.trace_id,
          payload: { status: result.status, retryAt: result.retryAt },
          createdAt: now,
        },
      ]);
    }
    if (stale.length) deps.observer?.leasesExpired(stale.length);
    return { recovered: stale.length };
  });
}

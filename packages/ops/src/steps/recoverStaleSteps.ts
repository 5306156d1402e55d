import type { OpsDeps } from '../types.ts';
import { failStep } from './settleStep.ts';
import { inTransaction } from '@opsloop/db';

/**
 * Running steps whose lease expired (the worker died or hung), or that have run longer
 * than `step_defaults.stale_after_minutes` without a heartbeat, are treated as a failed
 * attempt: re-queued with backoff while attempts remain, failed (and the mission
 * finalised) otherwise, through the same path as any failure.
 */
export async function recoverStaleSteps(deps: Pick<OpsDeps, 'prisma' | 'clock' | 'policy' | 'random'>, limit = 100): Promise<{ recovered: number }> {
  const now = deps.clock.now();
  const { step_defaults } = await deps.policy.read(deps.prisma, ['step_defaults']);
  const staleBefore = new Date(now.getTime() - step_defaults.stale_after_minutes * 60_000);
  let recovered = 0;
  const candidates = await deps.prisma.$queryRaw<{ id: string; lease_token: string }[]>`
    SELECT id, lease_token FROM ops_mission_steps
    WHERE status = 'running' AND (lease_expires_at < ${now}::timestamptz OR (lease_expires_at IS NULL AND updated_at < ${staleBefore}::timestamptz))
    ORDER BY lease_expires_at LIMIT ${limit}`;
  for (const c of candidates) {
    const done = await inTransaction(deps.prisma, async (tx) => {
      // Re-check under lock: the worker may have completed or extended meanwhile.
      const [still] = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM ops_mission_steps WHERE id = ${c.id}::uuid AND status = 'running' AND lease_token = ${c.lease_token}::uuid
          AND (lease_expires_at < ${now}::timestamptz OR (lease_expires_at IS NULL AND updated_at < ${staleBefore}::timestamptz))
        FOR UPDATE SKIP LOCKED`;
      if (!still) return false;
      const result = await failStep(deps, { stepId: c.id, leaseToken: c.lease_token, error: 'lease expired: worker stopped heartbeating', outcome: 'lost' }, tx);
      await tx.opsEvent.create({
        data: { kind: 'step:recovered', source: 'heartbeat', missionId: result.missionId, stepId: c.id, payload: { status: result.status, retryAt: result.retryAt }, createdAt: now },
      });
      return true;
    });
    if (done) recovered++;
  }
  return { recovered };
}

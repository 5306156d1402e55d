import { ConflictError, NotFoundError } from '@opsloop/core';
import { inTransaction, withTransientRetry, type Prisma } from '@opsloop/db';
import { writeEvents, type NewEvent } from '../events.ts';
import type { MissionStatus, StepStatus } from '../statuses.ts';
import type { OpsDeps } from '../types.ts';

export interface CancelInput {
  /** Who asked (a person's name, "slack:U123", "console"). */
  by: string;
  reason: string;
}

export interface CancelResult {
  missionId: string;
  status: 'cancelled';
  /** false: it was already cancelled; nothing changed and no event was written. */
  changed: boolean;
  cancelledSteps: number;
  /** Running attempts whose lease was revoked: their worker's next call gets 409. */
  revokedLeases: number;
}

/**
 * Cancels a queued or running mission in one transaction: waiting and queued steps are
 * cancelled, running steps' leases are revoked (their runs closed as `cancelled`), and
 * the mission ends `cancelled` with one `mission:cancelled` event naming who and why.
 * Every step transition is guarded on the lease token, so the old worker's late
 * heartbeat, complete or fail finds no running step with its token and gets 409.
 * Cancelling a cancelled mission is a no-op; a mission that already succeeded or
 * failed is a 409.
 */
export function cancelMission(deps: Pick<OpsDeps, 'prisma' | 'clock'>, missionId: string, input: CancelInput, tx?: Prisma.TransactionClient): Promise<CancelResult> {
  const run = async (t: Prisma.TransactionClient): Promise<CancelResult> => {
    const now = deps.clock.now();
    // Steps before the mission, in position order: the order completing and finalising
    // take them in, so a cancel racing a completion waits instead of deadlocking.
    await t.$queryRaw`SELECT id FROM ops_mission_steps WHERE mission_id = ${missionId}::uuid ORDER BY position FOR UPDATE`;
    const [mission] = await t.$queryRaw<{ id: string; status: MissionStatus; proposal_id: string; skill: string; trace_id: string; title: string }[]>`
      SELECT id, status, proposal_id, skill, trace_id, title FROM ops_missions WHERE id = ${missionId}::uuid FOR UPDATE`;
    if (!mission) throw new NotFoundError('mission');
    if (mission.status === 'cancelled') return { missionId, status: 'cancelled', changed: false, cancelledSteps: 0, revokedLeases: 0 };
    if (mission.status !== 'queued' && mission.status !== 'running') {
      throw new ConflictError(`mission is ${mission.status}: only queued or running missions can be cancelled`, { status: mission.status });
    }
    const steps = await t.$queryRaw<{ id: string; kind: string; status: StepStatus; lease_token: string | null }[]>`
      WITH open AS (
        SELECT id, status AS was, lease_token FROM ops_mission_steps
        WHERE mission_id = ${missionId}::uuid AND status IN ('waiting', 'queued', 'running') ORDER BY position FOR UPDATE
      )
      UPDATE ops_mission_steps s
      SET status = 'cancelled', finished_at = ${now}::timestamptz, error = ${`cancelled by ${input.by}: ${input.reason}`},
          lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = ${now}::timestamptz
      FROM open WHERE s.id = open.id
      RETURNING s.id, s.kind, open.was AS status, open.lease_token`;
    const revoked = steps.filter((s) => s.status === 'running' && s.lease_token);
    if (revoked.length) {
      await t.$executeRaw`
        UPDATE ops_step_runs SET finished_at = ${now}::timestamptz, outcome = 'cancelled', error = ${`mission cancelled by ${input.by}`},
          duration_ms = greatest(0, (extract(epoch FROM (${now}::timestamptz - started_at)) * 1000)::int)
        WHERE lease_token = ANY(${revoked.map((s) => s.lease_token!)}::uuid[]) AND outcome = 'running'`;
    }
    await t.$executeRaw`
      UPDATE ops_missions SET status = 'cancelled', finished_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
      WHERE id = ${missionId}::uuid`;
    const base = { source: 'missions', skill: mission.skill, proposalId: mission.proposal_id, missionId, traceId: mission.trace_id, createdAt: now };
    const events: NewEvent[] = steps.map((s) => ({
      ...base,
      kind: 'step:cancelled',
      stepId: s.id,
      payload: { kind: s.kind, reason: 'mission cancelled', was: s.status, leaseRevoked: s.status === 'running' },
    }));
    events.push({ ...base, kind: 'mission:cancelled', payload: { title: mission.title, by: input.by, reason: input.reason, was: mission.status } });
    await writeEvents(t, events);
    return { missionId, status: 'cancelled', changed: true, cancelledSteps: steps.length, revokedLeases: revoked.length };
  };
  return tx ? run(tx) : withTransientRetry(() => inTransaction(deps.prisma, run));
}

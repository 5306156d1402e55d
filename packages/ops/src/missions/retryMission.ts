import { ConflictError, NotFoundError } from '@opsloop/core';
import { inTransaction, withTransientRetry, type Prisma } from '@opsloop/db';
import { writeEvents } from '../events.ts';
import { evaluateCapGate, evaluatePolicyGates, readDecisionPolicy } from '../proposals/gates.ts';
import type { ProposalDeps } from '../proposals/createProposal.ts';
import type { MissionStatus, StepStatus } from '../statuses.ts';

export interface RetryResult {
  missionId: string;
  status: MissionStatus;
  /** false: the mission was already retried and has not finished since; nothing changed. */
  changed: boolean;
  /** Position of the step it runs again from. */
  fromPosition: number | null;
  requeuedSteps: number;
}

/**
 * Runs a failed or cancelled mission again from its first step that did not succeed
 * (the failed one): that step is queued and the ones after it wait, all with fresh
 * attempts; steps that succeeded keep their results. Passes the same gates as a
 * proposal a person approves: a disabled skill, the kill switch or a daily quota
 * refuses it with 409 and changes nothing. The quota check asks whether today's count
 * plus the re-run steps fits; afterwards the re-run steps count for today (their
 * `created_at`, which the cap gate counts, becomes the time of the retry), so a step
 * retried on the day it was approved is counted once.
 * A second retry while the first is still under way is a no-op.
 */
export function retryMission(deps: ProposalDeps, missionId: string, input: { by: string }, tx?: Prisma.TransactionClient): Promise<RetryResult> {
  const run = async (t: Prisma.TransactionClient): Promise<RetryResult> => {
    const now = deps.clock.now();
    const [mission] = await t.$queryRaw<{ id: string; status: MissionStatus; proposal_id: string; skill: string; trace_id: string; title: string }[]>`
      SELECT id, status, proposal_id, skill, trace_id, title FROM ops_missions WHERE id = ${missionId}::uuid FOR UPDATE`;
    if (!mission) throw new NotFoundError('mission');
    if (mission.status === 'queued' || mission.status === 'running') {
      const [retried] = await t.$queryRaw<{ id: bigint }[]>`
        SELECT id FROM ops_events WHERE mission_id = ${missionId}::uuid AND kind = 'mission:retried' LIMIT 1`;
      if (retried) return { missionId, status: mission.status, changed: false, fromPosition: null, requeuedSteps: 0 };
    }
    if (mission.status !== 'failed' && mission.status !== 'cancelled') {
      throw new ConflictError(`mission is ${mission.status}: only failed or cancelled missions can be retried`, { status: mission.status });
    }
    const steps = await t.$queryRaw<{ id: string; position: number; kind: string; skill: string; status: StepStatus }[]>`
      SELECT id, position, kind, skill, status FROM ops_mission_steps WHERE mission_id = ${missionId}::uuid ORDER BY position FOR UPDATE`;
    const from = steps.find((s) => s.status !== 'succeeded');
    if (!from) throw new ConflictError('every step of this mission succeeded: nothing to retry');
    const rerun = steps.filter((s) => s.position >= from.position);

    const target = { skill: mission.skill, steps: rerun.map((s) => ({ kind: s.kind, skill: s.skill })) };
    const policy = await readDecisionPolicy(t, deps.policy, target);
    const gate = evaluatePolicyGates(policy, target, 'manual');
    if (gate.status !== 'approved') throw new ConflictError(`retry refused: ${gate.reason}`, { gate: gate.status === 'pending' ? 'kill_switch' : 'skill' });
    const cap = await evaluateCapGate(t, policy.daily_quotas, rerun, now, deps.timeZone);
    if (cap?.status === 'rejected') throw new ConflictError(`retry refused: ${cap.reason}`, { gate: 'quota', quota: cap.quota });

    await t.$executeRaw`
      UPDATE ops_mission_steps
      SET status = CASE WHEN position = ${from.position} THEN 'queued' ELSE 'waiting' END,
          attempts = 0, error = NULL, result = NULL, started_at = NULL, finished_at = NULL, run_after = ${now}::timestamptz,
          lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, created_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
      WHERE mission_id = ${missionId}::uuid AND position >= ${from.position}`;
    await t.$executeRaw`
      UPDATE ops_missions SET status = 'queued', finished_at = NULL, updated_at = ${now}::timestamptz WHERE id = ${missionId}::uuid`;
    await writeEvents(t, [
      {
        kind: 'mission:retried',
        source: 'missions',
        skill: mission.skill,
        proposalId: mission.proposal_id,
        missionId,
        stepId: from.id,
        traceId: mission.trace_id,
        createdAt: now,
        payload: { title: mission.title, by: input.by, was: mission.status, fromPosition: from.position, fromKind: from.kind, steps: rerun.map((s) => s.kind) },
      },
    ]);
    await t.$executeRaw`SELECT pg_notify('opsloop_steps', ${from.kind})`;
    return { missionId, status: 'queued', changed: true, fromPosition: from.position, requeuedSteps: rerun.length };
  };
  return tx ? run(tx) : withTransientRetry(() => inTransaction(deps.prisma, run));
}

import type { Prisma } from '@opsloop/db';
import { writeEvents, type NewEvent } from '../events.ts';
import { missionOutcome, type StepStatus } from '../statuses.ts';

/**
 * The one place that decides whether a mission is over, used by every path that ends a
 * step (complete, fail, stale recovery). A failed step cancels the steps after it and
 * fails the mission; all steps succeeded succeeds it. Guarded, so finalising a finished
 * mission changes nothing and writes no event.
 */
export async function finaliseMission(tx: Prisma.TransactionClient, missionId: string, now: Date): Promise<'succeeded' | 'failed' | undefined> {
  const steps = await tx.$queryRaw<{ id: string; status: StepStatus; kind: string; error: string | null }[]>`
    SELECT id, status, kind, error FROM ops_mission_steps WHERE mission_id = ${missionId}::uuid ORDER BY position FOR UPDATE`;
  const outcome = missionOutcome(steps.map((s) => s.status));
  if (!outcome) return undefined;

  const [mission] = await tx.$queryRaw<{ id: string; proposal_id: string; skill: string; trace_id: string; title: string }[]>`
    UPDATE ops_missions SET status = ${outcome}, finished_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
    WHERE id = ${missionId}::uuid AND status IN ('queued', 'running')
    RETURNING id, proposal_id, skill, trace_id, title`;
  if (!mission) return undefined;

  const base = { source: 'missions', skill: mission.skill, proposalId: mission.proposal_id, missionId, traceId: mission.trace_id, createdAt: now };
  const events: NewEvent[] = [];
  let failed: (typeof steps)[number] | undefined;
  if (outcome === 'failed') {
    failed = steps.find((s) => s.status === 'failed');
    const cancelled = await tx.$queryRaw<{ id: string; kind: string }[]>`
      UPDATE ops_mission_steps SET status = 'cancelled', finished_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
      WHERE mission_id = ${missionId}::uuid AND status IN ('waiting', 'queued')
      RETURNING id, kind`;
    for (const c of cancelled) events.push({ ...base, kind: 'step:cancelled', stepId: c.id, payload: { kind: c.kind, reason: 'an earlier step failed' } });
  }
  events.push({
    ...base,
    kind: `mission:${outcome}`,
    tags: outcome === 'failed' ? ['failure'] : [],
    payload: { title: mission.title, ...(failed ? { failedStepId: failed.id, failedStepKind: failed.kind, error: failed.error } : {}) },
  });
  await writeEvents(tx, events);
  return outcome;
}

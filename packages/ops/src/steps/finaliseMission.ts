import { asSqlRunner, type Prisma, type SqlRunner } from '@opsloop/db';
import { writeEvents, type NewEvent } from '../events.ts';
import { missionOutcome, type StepStatus } from '../statuses.ts';

type Outcome = 'succeeded' | 'failed';

/**
 * The one place that decides whether missions are over, used by every path that ends a
 * step (complete, fail, stale recovery), for one mission or a batch. A failed step
 * cancels the steps after it and fails its mission; all steps succeeded succeeds it
 * (the rule itself is `missionOutcome`). Guarded, so finalising a finished mission
 * changes nothing and writes no event. Returns the missions it finalised.
 */
export async function finaliseMissions(db: Prisma.TransactionClient | SqlRunner, missionIds: string[], now: Date): Promise<Map<string, Outcome>> {
  const finalised = new Map<string, Outcome>();
  if (missionIds.length === 0) return finalised;
  const sql = asSqlRunner(db);
  // Ordered locks: concurrent finalisations of overlapping batches cannot deadlock.
  const steps = await sql.query<{ id: string; mission_id: string; status: StepStatus; kind: string; error: string | null }>({
    name: 'opsloop_finalise_lock_steps',
    text: `SELECT id, mission_id, status, kind, error FROM ops_mission_steps
           WHERE mission_id = ANY($1::uuid[]) ORDER BY mission_id, position FOR UPDATE`,
    values: [missionIds],
  });
  const byMission = new Map<string, typeof steps>();
  for (const s of steps) byMission.set(s.mission_id, [...(byMission.get(s.mission_id) ?? []), s]);

  const decided: { id: string; outcome: Outcome }[] = [];
  for (const [id, list] of byMission) {
    const outcome = missionOutcome(list.map((s) => s.status));
    if (outcome) decided.push({ id, outcome });
  }
  if (decided.length === 0) return finalised;

  const missions = await sql.query<{ id: string; proposal_id: string; skill: string; trace_id: string; title: string; status: Outcome }>({
    name: 'opsloop_finalise_missions',
    // A function, so its plan holds at any table size (sql/migrations/016).
    text: `SELECT id, proposal_id, skill, trace_id, title, status FROM opsloop_finalise_missions($1::uuid[], $2::text[], $3::timestamptz)`,
    values: [decided.map((d) => d.id), decided.map((d) => d.outcome), now],
  });
  if (missions.length === 0) return finalised;

  const failedIds = missions.filter((m) => m.status === 'failed').map((m) => m.id);
  const cancelled = failedIds.length
    ? await sql.query<{ id: string; kind: string; mission_id: string }>({
        text: `UPDATE ops_mission_steps SET status = 'cancelled', finished_at = $2::timestamptz, updated_at = $2::timestamptz
               WHERE mission_id = ANY($1::uuid[]) AND status IN ('waiting', 'queued')
               RETURNING id, kind, mission_id`,
        values: [failedIds, now],
      })
    : [];

  const events: NewEvent[] = [];
  for (const m of missions) {
    finalised.set(m.id, m.status);
    const base = { source: 'missions', skill: m.skill, proposalId: m.proposal_id, missionId: m.id, traceId: m.trace_id, createdAt: now };
    for (const c of cancelled.filter((c) => c.mission_id === m.id)) {
      events.push({ ...base, kind: 'step:cancelled', stepId: c.id, payload: { kind: c.kind, reason: 'an earlier step failed' } });
    }
    const failed = m.status === 'failed' ? byMission.get(m.id)?.find((s) => s.status === 'failed') : undefined;
    events.push({
      ...base,
      kind: `mission:${m.status}`,
      tags: m.status === 'failed' ? ['failure'] : [],
      payload: { title: m.title, ...(failed ? { failedStepId: failed.id, failedStepKind: failed.kind, error: failed.error } : {}) },
    });
  }
  await writeEvents(sql, events);
  return finalised;
}

export async function finaliseMission(tx: Prisma.TransactionClient | SqlRunner, missionId: string, now: Date): Promise<Outcome | undefined> {
  return (await finaliseMissions(tx, [missionId], now)).get(missionId);
}

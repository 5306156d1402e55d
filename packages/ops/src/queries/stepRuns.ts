import type { DbClient } from '@opsloop/db';

/** Every attempt of a mission's steps (one ops_step_runs row each), oldest first. */
export async function listStepRuns(db: DbClient, missionId: string) {
  const rows = await db.opsStepRun.findMany({
    // Through the mission's steps: runs are indexed by step, not by mission (one index
    // fewer to keep up on every claim), so filtering on their mission_id would read them all.
    where: { step: { is: { missionId } } },
    orderBy: [{ startedAt: 'asc' }, { id: 'asc' }],
    select: { id: true, stepId: true, attempt: true, kind: true, workerId: true, startedAt: true, finishedAt: true, durationMs: true, outcome: true, error: true, details: true },
  });
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

import type { DbClient } from '@opsloop/db';

export interface StepRunView {
  id: number;
  stepId: string;
  attempt: number;
  kind: string;
  workerId: string;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
  outcome: string;
  error: string | null;
  details: unknown;
}

/** Every attempt of a mission's steps (one ops_step_runs row each), oldest first. */
export async function listStepRuns(db: DbClient, missionId: string): Promise<StepRunView[]> {
  // Through the mission's steps: runs are indexed by step, not by mission (one index fewer
  // to keep up on every claim). The steps' ids as an array make each a lookup of the
  // runs' step index whatever the statistics say; a join, planned without them, read
  // every run.
  const rows = await db.$queryRaw<(Omit<StepRunView, 'id'> & { id: bigint })[]>`
    SELECT id, step_id AS "stepId", attempt, kind, worker_id AS "workerId", started_at AS "startedAt",
           finished_at AS "finishedAt", duration_ms AS "durationMs", outcome, error, details
    FROM ops_step_runs
    WHERE step_id = ANY(ARRAY(SELECT id FROM ops_mission_steps WHERE mission_id = ${missionId}::uuid))
    ORDER BY started_at, id`;
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

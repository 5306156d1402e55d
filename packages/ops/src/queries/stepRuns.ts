import type { DbClient, Prisma } from '@opsloop/db';
import { rawColumns } from './rawColumns.ts';

const runSelect = {
  id: true,
  stepId: true,
  attempt: true,
  kind: true,
  workerId: true,
  startedAt: true,
  finishedAt: true,
  durationMs: true,
  outcome: true,
  error: true,
  details: true,
} as const;
const RUN_COLUMNS = rawColumns(runSelect, 'r');

/** Every attempt of a mission's steps (one ops_step_runs row each), oldest first. */
export async function listStepRuns(db: DbClient, missionId: string) {
  // Through the mission's steps: runs are indexed by step, not by mission (one index fewer
  // to keep up on every claim). The steps' ids as an array make each a lookup of the
  // runs' step index whatever the statistics say; a join, planned without them, read
  // every run.
  const rows = await db.$queryRaw<Prisma.OpsStepRunGetPayload<{ select: typeof runSelect }>[]>`
    SELECT ${RUN_COLUMNS} FROM ops_step_runs r
    WHERE r.step_id = ANY(ARRAY(SELECT id FROM ops_mission_steps WHERE mission_id = ${missionId}::uuid))
    ORDER BY r.started_at, r.id`;
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

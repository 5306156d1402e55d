import type { DbClient, Prisma } from '@opsloop/db';
import { afterCursor, toPage, type Page } from './pagination.ts';
import { rawColumns } from './rawColumns.ts';

const stepSelect = {
  id: true,
  position: true,
  kind: true,
  skill: true,
  params: true,
  status: true,
  attempts: true,
  maxAttempts: true,
  runAfter: true,
  leaseOwner: true,
  leaseExpiresAt: true,
  result: true,
  error: true,
  startedAt: true,
  finishedAt: true,
  createdAt: true,
  updatedAt: true,
} as const;

const missionSelect = {
  id: true,
  proposalId: true,
  title: true,
  skill: true,
  status: true,
  traceId: true,
  startedAt: true,
  finishedAt: true,
  createdAt: true,
  updatedAt: true,
} as const;

type StepView = Prisma.OpsMissionStepGetPayload<{ select: typeof stepSelect }>;
const STEP_COLUMNS = rawColumns(stepSelect, 's');

/**
 * The steps of these missions, each mission's in order. Read per mission through the
 * steps' (mission_id, position) key: asked as one list of ids, a planner without
 * statistics estimated a quarter of the table and read all of it.
 */
async function stepsOf(db: DbClient, missionIds: string[]): Promise<Map<string, StepView[]>> {
  const rows = missionIds.length
    ? await db.$queryRaw<(StepView & { missionId: string })[]>`
        SELECT m.id AS "missionId", ${STEP_COLUMNS}
        FROM unnest(${missionIds}::uuid[]) WITH ORDINALITY AS m(id, n)
        CROSS JOIN LATERAL (SELECT * FROM ops_mission_steps WHERE mission_id = m.id ORDER BY position OFFSET 0) s
        ORDER BY m.n, s.position`
    : [];
  const byMission = new Map<string, StepView[]>(missionIds.map((id) => [id, []]));
  for (const { missionId, ...step } of rows) byMission.get(missionId)!.push(step);
  return byMission;
}

async function withSteps<M extends { id: string }>(db: DbClient, missions: M[]): Promise<(M & { steps: StepView[] })[]> {
  const steps = await stepsOf(db, missions.map((m) => m.id));
  return missions.map((m) => ({ ...m, steps: steps.get(m.id)! }));
}

export type MissionView = NonNullable<Awaited<ReturnType<typeof getMission>>>;

export async function getMission(db: DbClient, id: string) {
  const mission = await db.opsMission.findUnique({ where: { id }, select: missionSelect });
  return mission ? (await withSteps(db, [mission]))[0]! : null;
}

export async function listMissions(
  db: DbClient,
  f: { status?: string; skill?: string; since?: Date; cursor?: string; limit: number },
): Promise<Page<MissionView>> {
  const rows = await db.opsMission.findMany({
    where: {
      AND: [f.status ? { status: f.status } : {}, f.skill ? { skill: f.skill } : {}, f.since ? { createdAt: { gte: f.since } } : {}, afterCursor(f.cursor)],
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: f.limit + 1,
    select: missionSelect,
  });
  return toPage(await withSteps(db, rows), f.limit);
}

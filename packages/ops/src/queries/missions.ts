import type { DbClient } from '@opsloop/db';
import { afterCursor, toPage, type Page } from './pagination.ts';

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
  steps: { select: stepSelect, orderBy: { position: 'asc' } },
} as const;

export type MissionView = NonNullable<Awaited<ReturnType<typeof getMission>>>;

export function getMission(db: DbClient, id: string) {
  return db.opsMission.findUnique({ where: { id }, select: missionSelect });
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
  return toPage(rows, f.limit);
}

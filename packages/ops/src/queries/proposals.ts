import type { DbClient } from '@opsloop/db';
import { afterCursor, toPage, type Page } from './pagination.ts';

const proposalSelect = {
  id: true,
  dedupeKey: true,
  source: true,
  proposedBy: true,
  skill: true,
  title: true,
  steps: true,
  status: true,
  reason: true,
  missionId: true,
  traceId: true,
  metadata: true,
  decidedAt: true,
  createdAt: true,
  updatedAt: true,
} as const;

export type ProposalView = Awaited<ReturnType<typeof getProposal>> & {};

export function getProposal(db: DbClient, id: string) {
  return db.opsProposal.findUnique({ where: { id }, select: proposalSelect });
}

export interface ProposalFilter {
  status?: string;
  skill?: string;
  since?: Date;
  cursor?: string;
  limit: number;
}

export async function listProposals(db: DbClient, f: ProposalFilter): Promise<Page<NonNullable<ProposalView>>> {
  const rows = await db.opsProposal.findMany({
    where: {
      AND: [
        f.status ? { status: f.status } : {},
        f.skill ? { skill: f.skill } : {},
        f.since ? { createdAt: { gte: f.since } } : {},
        afterCursor(f.cursor),
      ],
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: f.limit + 1,
    select: proposalSelect,
  });
  return toPage(rows, f.limit);
}

import { Prisma, type DbClient } from '@opsloop/db';
import { eventView } from '../queries/events.ts';

export interface StreamFilter {
  /** An event kind, a prefix pattern (`mission:*`) or `*`. */
  kind?: string;
  traceId?: string;
}

/**
 * The next events after `after` and at most `upTo` (the safe horizon) that pass the
 * filter, in id order.
 */
export async function readStreamEvents(db: DbClient, f: StreamFilter & { after: bigint; upTo: bigint; limit: number }) {
  const kind =
    !f.kind || f.kind === '*'
      ? Prisma.sql`true`
      : f.kind.endsWith('*')
        ? Prisma.sql`kind LIKE ${f.kind.slice(0, -1).replace(/[\\%_]/g, '\\$&') + '%'}`
        : Prisma.sql`kind = ${f.kind}`;
  const trace = f.traceId ? Prisma.sql`trace_id = ${f.traceId}::uuid` : Prisma.sql`true`;
  const rows = await db.$queryRaw<
    { id: bigint; kind: string; source: string; skill: string | null; proposalId: string | null; missionId: string | null; stepId: string | null; traceId: string | null; payload: unknown; tags: string[]; createdAt: Date }[]
  >`
    SELECT id, kind, source, skill, proposal_id AS "proposalId", mission_id AS "missionId", step_id AS "stepId", trace_id AS "traceId",
           payload, tags, created_at AS "createdAt"
    FROM ops_events
    WHERE id > ${f.after}::bigint AND id <= ${f.upTo}::bigint AND ${kind} AND ${trace}
    ORDER BY id LIMIT ${f.limit}`;
  return rows.map(eventView);
}

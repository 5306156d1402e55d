import type { DbClient } from '@opsloop/db';

/** Events as the API shows them: the bigint id becomes a number (safe below 2^53). */
export function eventView<T extends { id: bigint }>(e: T): Omit<T, 'id'> & { id: number } {
  return { ...e, id: Number(e.id) };
}

export async function listEvents(
  db: DbClient,
  f: { kind?: string; sinceId?: number; traceId?: string; missionId?: string; limit: number; /** The newest `limit` instead of the oldest. */ latest?: boolean },
) {
  const rows = await db.opsEvent.findMany({
    where: {
      ...(f.kind ? (f.kind.endsWith(':*') ? { kind: { startsWith: f.kind.slice(0, -1) } } : { kind: f.kind }) : {}),
      ...(f.sinceId !== undefined ? { id: { gt: BigInt(f.sinceId) } } : {}),
      ...(f.traceId ? { traceId: f.traceId } : {}),
      ...(f.missionId ? { missionId: f.missionId } : {}),
    },
    orderBy: { id: f.latest ? 'desc' : 'asc' },
    take: f.limit,
  });
  if (f.latest) rows.reverse();
  const items = rows.map(eventView);
  return { items, nextSinceId: items.length ? items[items.length - 1]!.id : (f.sinceId ?? null) };
}

export async function getEvent(db: DbClient, id: number) {
  const row = await db.opsEvent.findUnique({ where: { id: BigInt(id) } });
  return row ? eventView(row) : null;
}

import type { DbClient } from '@opsloop/db';

export const ALERT_DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'skipped'] as const;

/** Alerts newest first; `before` is the last id of the previous page. */
export async function listAlerts(db: DbClient, f: { kind?: string; delivery_status?: (typeof ALERT_DELIVERY_STATUSES)[number]; before?: number; limit: number }) {
  const rows = await db.opsAlert.findMany({
    where: {
      ...(f.kind ? { kind: f.kind } : {}),
      ...(f.delivery_status ? { deliveryStatus: f.delivery_status } : {}),
      ...(f.before ? { id: { lt: BigInt(f.before) } } : {}),
    },
    orderBy: { id: 'desc' },
    take: f.limit,
  });
  const items = rows.map((r) => ({ ...r, id: Number(r.id) }));
  return { items, nextBefore: items.length === f.limit ? items[items.length - 1]!.id : null };
}

/** Every `policy:changed` event (old value, new value, who), newest first, optionally for one key. */
export async function policyHistory(db: DbClient, f: { key?: string; before?: number; limit: number }) {
  const rows = await db.opsEvent.findMany({
    where: {
      kind: 'policy:changed',
      ...(f.key ? { payload: { path: ['key'], equals: f.key } } : {}),
      ...(f.before ? { id: { lt: BigInt(f.before) } } : {}),
    },
    orderBy: { id: 'desc' },
    take: f.limit,
  });
  const items = rows.map((e) => {
    const p = e.payload as { key?: string; old?: unknown; new?: unknown; changedBy?: string | null };
    return { eventId: Number(e.id), key: p.key ?? null, old: p.old ?? null, new: p.new ?? null, changedBy: p.changedBy ?? null, changedAt: e.createdAt };
  });
  return { items, nextBefore: items.length === f.limit ? items[items.length - 1]!.eventId : null };
}

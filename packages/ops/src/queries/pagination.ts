import { isQueryableTime, ValidationError } from '@opsloop/core';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Opaque cursor over (created_at DESC, id DESC) listings. */
export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  // A cursor is client input: checked here so a forged one is a 400, not a database error.
  if (!id || !UUID.test(id) || !isQueryableTime(createdAt)) throw new ValidationError('Invalid cursor', [{ path: 'query.cursor', message: 'not a cursor returned by this API' }]);
  return { createdAt, id };
}

/** Prisma `where` for "after this cursor" in (created_at DESC, id DESC) order. */
export function afterCursor(cursor: string | undefined) {
  if (!cursor) return {};
  const { createdAt, id } = decodeCursor(cursor);
  return { OR: [{ createdAt: { lt: createdAt } }, { createdAt, id: { lt: id } }] };
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function toPage<T extends { createdAt: Date; id: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null };
}

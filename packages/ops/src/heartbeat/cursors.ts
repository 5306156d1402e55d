import type { DbClient } from '@opsloop/db';

/** Durable progress over ops_events: the last event id a phase has fully processed. */
export async function readCursor(db: DbClient, name: string): Promise<bigint> {
  const rows = await db.$queryRaw<{ last_event_id: bigint }[]>`
    INSERT INTO ops_cursors (name) VALUES (${name}) ON CONFLICT (name) DO UPDATE SET name = excluded.name
    RETURNING last_event_id`;
  return rows[0]!.last_event_id;
}

/** Moves a cursor forward only (a slow replica can never move it back). */
export async function advanceCursor(db: DbClient, name: string, to: bigint, now: Date): Promise<void> {
  await db.$executeRaw`
    UPDATE ops_cursors SET last_event_id = greatest(last_event_id, ${to}::bigint), updated_at = ${now}::timestamptz WHERE name = ${name}`;
}

export interface CursorEvent {
  id: bigint;
  kind: string;
  source: string;
  skill: string | null;
  tags: string[];
  payload: Record<string, unknown>;
  created_at: Date;
  mission_id: string | null;
  trace_id: string | null;
}

/** The next batch of events after the cursor: bounded work, whatever the table's size or statistics. */
export function eventsAfter(db: DbClient, after: bigint, limit: number): Promise<CursorEvent[]> {
  return db.$queryRaw<CursorEvent[]>`
    SELECT id, kind, source, skill, tags, payload, created_at, mission_id, trace_id
    FROM opsloop_events_after(${after}::bigint, ${limit}::int) ORDER BY id`;
}

/** `mission:failed` matches `mission:failed`, `mission:*` and `*`. */
export function eventKindMatches(kind: string, pattern: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return kind.startsWith(pattern.slice(0, -1));
  return kind === pattern;
}

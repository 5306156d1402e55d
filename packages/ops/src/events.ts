import { asSqlRunner, type DbClient, type SqlRunner } from '@opsloop/db';

export interface NewEvent {
  kind: string;
  source: string;
  skill?: string | null;
  proposalId?: string | null;
  missionId?: string | null;
  stepId?: string | null;
  traceId?: string | null;
  payload?: Record<string, unknown>;
  tags?: string[];
  createdAt?: Date;
}

/**
 * Appends events in one statement; call it inside the transaction that makes the change
 * they record. (Raw SQL: this runs on every transition, and one round trip for any
 * number of events keeps the hot paths short.)
 */
export async function writeEvents(db: DbClient | SqlRunner, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  await asSqlRunner(db).query({
    name: 'opsloop_write_events',
    text: `
      INSERT INTO ops_events (kind, source, skill, proposal_id, mission_id, step_id, trace_id, payload, tags, created_at)
      SELECT kind, source, skill, proposal_id, mission_id, step_id, trace_id, payload, tags, created_at
      FROM jsonb_to_recordset($1::jsonb)
        AS e(kind text, source text, skill text, proposal_id uuid, mission_id uuid, step_id uuid, trace_id uuid, payload jsonb, tags text[], created_at timestamptz)`,
    values: [eventRowsJson(events)],
  });
}

/**
 * Events as the JSON array `jsonb_to_recordset` reads in the raw statements that write
 * events (here, and inside recordDecision's single statement).
 */
export function eventRowsJson(events: NewEvent[], now?: Date): string {
  return JSON.stringify(
    events.map((e) => ({
      kind: e.kind,
      source: e.source,
      skill: e.skill ?? null,
      proposal_id: e.proposalId ?? null,
      mission_id: e.missionId ?? null,
      step_id: e.stepId ?? null,
      trace_id: e.traceId ?? null,
      payload: e.payload ?? {},
      tags: e.tags ?? [],
      created_at: (e.createdAt ?? now ?? new Date()).toISOString(),
    })),
  );
}

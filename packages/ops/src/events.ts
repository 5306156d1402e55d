import type { DbClient } from '@opsloop/db';

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

/** Appends events; call it inside the transaction that makes the change they record. */
export async function writeEvents(db: DbClient, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.opsEvent.createMany({
    data: events.map((e) => ({
      kind: e.kind,
      source: e.source,
      skill: e.skill ?? null,
      proposalId: e.proposalId ?? null,
      missionId: e.missionId ?? null,
      stepId: e.stepId ?? null,
      traceId: e.traceId ?? null,
      payload: (e.payload ?? {}) as object,
      tags: e.tags ?? [],
      ...(e.createdAt ? { createdAt: e.createdAt } : {}),
    })),
  });
}

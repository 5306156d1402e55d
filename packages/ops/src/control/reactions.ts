import { ConflictError, NotFoundError } from '@opsloop/core';
import { inTransaction, type DbClient } from '@opsloop/db';
import { writeEvents } from '../events.ts';
import type { OpsDeps } from '../types.ts';

/** `proposed` is "done": the reaction became a proposal. */
export const REACTION_STATUSES = ['queued', 'proposed', 'skipped', 'dead'] as const;

export interface ReactionView {
  id: number;
  event_id: number;
  pattern: string;
  target_skill: string;
  template: unknown;
  probability: number;
  roll: number;
  status: (typeof REACTION_STATUSES)[number];
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  proposal_id: string | null;
  created_at: Date;
  updated_at: Date;
}

const view = (r: Omit<ReactionView, 'id' | 'event_id'> & { id: bigint; event_id: bigint }): ReactionView => ({ ...r, id: Number(r.id), event_id: Number(r.event_id) });

/** Newest first; `before` is the last id of the previous page. */
export async function listReactions(db: DbClient, f: { status?: ReactionView['status']; before?: number; limit: number }) {
  const rows = await db.opsReaction.findMany({
    where: { ...(f.status ? { status: f.status } : {}), ...(f.before ? { id: { lt: BigInt(f.before) } } : {}) },
    orderBy: { id: 'desc' },
    take: f.limit,
  });
  const items = rows.map((r) =>
    view({
      id: r.id,
      event_id: r.eventId,
      pattern: r.pattern,
      target_skill: r.targetSkill,
      template: r.template,
      probability: r.probability,
      roll: r.roll,
      status: r.status as ReactionView['status'],
      attempts: r.attempts,
      next_attempt_at: r.nextAttemptAt,
      last_error: r.lastError,
      proposal_id: r.proposalId,
      created_at: r.createdAt,
      updated_at: r.updatedAt,
    }),
  );
  return { items, nextBefore: items.length === f.limit ? items[items.length - 1]!.id : null };
}

/**
 * Gives a dead reaction fresh attempts: queued again, due now, for the next heartbeat's
 * reaction phase. Only a dead one (409 otherwise). Writes `reaction:requeued` with the
 * error it died of.
 */
export function requeueReaction(deps: Pick<OpsDeps, 'prisma' | 'clock'>, id: number, by: string): Promise<{ id: number; status: 'queued' }> {
  return inTransaction(deps.prisma, async (tx) => {
    const now = deps.clock.now();
    const [row] = await tx.$queryRaw<{ status: string; last_error: string | null; attempts: number; pattern: string }[]>`
      SELECT status, last_error, attempts, pattern FROM ops_reactions WHERE id = ${id}::bigint FOR UPDATE`;
    if (!row) throw new NotFoundError('reaction');
    if (row.status !== 'dead') throw new ConflictError(`reaction is ${row.status}: only a dead reaction can be requeued`, { status: row.status });
    await tx.$executeRaw`
      UPDATE ops_reactions SET status = 'queued', attempts = 0, next_attempt_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
      WHERE id = ${id}::bigint`;
    await writeEvents(tx, [
      { kind: 'reaction:requeued', source: 'control', payload: { id, pattern: row.pattern, previousError: row.last_error, previousAttempts: row.attempts, by }, createdAt: now },
    ]);
    return { id, status: 'queued' as const };
  });
}

import { backoffDelayMs, describeError, type Logger } from '@opsloop/core';
import { inTransaction } from '@opsloop/db';
import { createProposal, type ProposalDeps } from '../proposals/createProposal.ts';
import type { PolicyValue } from '../policy/schemas.ts';
import type { PhaseContext } from './runHeartbeat.ts';
import { advanceCursor, eventKindMatches, eventsAfter, type CursorEvent } from './cursors.ts';

/**
 * reaction: one row of ops_reactions, enqueued when a new event matches a pattern of the
 * `reaction_matrix` policy, with its dice roll recorded. Due reactions become proposals
 * through the single entry point.
 */
type Pattern = PolicyValue<'reaction_matrix'>['patterns'][number];
type Deps = ProposalDeps & { logger: Logger; random?: () => number };

const CURSOR = 'reactions';
const BATCH = 2000;
/** Attempts before a reaction whose proposal keeps failing is marked dead. */
export const REACTION_MAX_ATTEMPTS = 5;

export function patternMatches(event: Pick<CursorEvent, 'kind' | 'source' | 'tags'>, p: Pattern): boolean {
  return eventKindMatches(event.kind, p.event_kind) && (!p.source || p.source === event.source) && (p.tags ?? []).every((t) => event.tags.includes(t));
}

export interface ReactionReport {
  eventsScanned: number;
  enqueued: number;
  skipped: number;
  proposed: number;
  retried: number;
  dead: number;
}

/**
 * Two halves, both resumable: (1) match events after the durable cursor against the
 * matrix and enqueue reactions (roll and cooldown decided and recorded at once, in the
 * same transaction as the cursor move, so a crash leaves nothing half done and events
 * matching nothing never block); (2) turn due reactions into proposals, retrying a
 * failing one with backoff up to REACTION_MAX_ATTEMPTS, then marking it dead.
 */
export async function processReactionQueue(deps: Deps, ctx: Pick<PhaseContext, 'outOfTime'>): Promise<ReactionReport> {
  const report: ReactionReport = { eventsScanned: 0, enqueued: 0, skipped: 0, proposed: 0, retried: 0, dead: 0 };
  const { reaction_matrix: matrix } = await deps.policy.read(deps.prisma, ['reaction_matrix']);
  const random = deps.random ?? Math.random;

  while (!ctx.outOfTime()) {
    const moved = await inTransaction(deps.prisma, async (tx) => {
      // FOR UPDATE on the cursor row: one matcher at a time, across replicas.
      await tx.$executeRaw`INSERT INTO ops_cursors (name) VALUES (${CURSOR}) ON CONFLICT (name) DO NOTHING`;
      const [{ last_event_id: cursor } = { last_event_id: 0n }] = await tx.$queryRaw<{ last_event_id: bigint }[]>`
        SELECT last_event_id FROM ops_cursors WHERE name = ${CURSOR} FOR UPDATE`;
      const events = await eventsAfter(tx, cursor, BATCH);
      if (events.length === 0) return false;
      report.eventsScanned += events.length;
      const now = deps.clock.now();
      for (const event of events) {
        for (const p of matrix.patterns) {
          if (!patternMatches(event, p)) continue;
          const roll = random();
          let status: 'queued' | 'skipped' = roll < p.probability ? 'queued' : 'skipped';
          let lastError: string | null = status === 'skipped' ? `roll ${roll.toFixed(4)} >= probability ${p.probability}` : null;
          if (status === 'queued' && p.cooldown_minutes > 0) {
            const since = new Date(now.getTime() - p.cooldown_minutes * 60_000);
            const [recent] = await tx.$queryRaw<{ id: bigint }[]>`
              SELECT id FROM ops_reactions WHERE pattern = ${p.name} AND target_skill = ${p.target_skill}
                AND status IN ('queued', 'proposed') AND created_at > ${since}::timestamptz LIMIT 1`;
            if (recent) {
              status = 'skipped';
              lastError = `cooldown: reaction ${recent.id} within ${p.cooldown_minutes} min`;
            }
          }
          const inserted = await tx.$executeRaw`
            INSERT INTO ops_reactions (event_id, pattern, target_skill, template, probability, roll, status, last_error, next_attempt_at, created_at, updated_at)
            VALUES (${event.id}::bigint, ${p.name}, ${p.target_skill}, ${JSON.stringify(p.template)}::jsonb, ${p.probability}, ${roll},
                    ${status}, ${lastError}, ${now}::timestamptz, ${now}::timestamptz, ${now}::timestamptz)
            ON CONFLICT (event_id, pattern) DO NOTHING`;
          if (inserted) report[status === 'queued' ? 'enqueued' : 'skipped']++;
        }
      }
      await advanceCursor(tx, CURSOR, events[events.length - 1]!.id, now);
      return true;
    });
    if (!moved) break;
  }

  while (!ctx.outOfTime()) {
    const due = await deps.prisma.$queryRaw<{ id: bigint; event_id: bigint; pattern: string; target_skill: string; template: Pattern['template']; attempts: number }[]>`
      SELECT id, event_id, pattern, target_skill, template, attempts FROM ops_reactions
      WHERE status = 'queued' AND next_attempt_at <= ${deps.clock.now()}::timestamptz ORDER BY next_attempt_at, id LIMIT 20`;
    if (due.length === 0) break;
    for (const r of due) {
      if (ctx.outOfTime()) break;
      const outcome = await proposeReaction(deps, r);
      report[outcome]++;
    }
  }
  return report;
}

async function proposeReaction(
  deps: Deps,
  r: { id: bigint; event_id: bigint; pattern: string; target_skill: string; template: Pattern['template']; attempts: number },
): Promise<'proposed' | 'retried' | 'dead'> {
  try {
    return await inTransaction(deps.prisma, async (tx) => {
      // Skip it if another replica is on it or already did it.
      const [mine] = await tx.$queryRaw<{ id: bigint }[]>`
        SELECT id FROM ops_reactions WHERE id = ${r.id}::bigint AND status = 'queued' FOR UPDATE SKIP LOCKED`;
      if (!mine) return 'proposed' as const;
      const { proposal } = await createProposal(
        deps,
        {
          title: r.template.title,
          skill: r.target_skill,
          steps: r.template.steps,
          source: 'reaction',
          proposedBy: `reaction:${r.pattern}`,
          dedupeKey: `reaction:${r.id}`,
          metadata: { reaction: Number(r.id), pattern: r.pattern, eventId: Number(r.event_id) },
        },
        tx,
      );
      await tx.$executeRaw`
        UPDATE ops_reactions SET status = 'proposed', proposal_id = ${proposal!.id}::uuid, attempts = attempts + 1, updated_at = ${deps.clock.now()}::timestamptz
        WHERE id = ${r.id}::bigint`;
      return 'proposed' as const;
    });
  } catch (error) {
    const now = deps.clock.now();
    const attempts = r.attempts + 1;
    const dead = attempts >= REACTION_MAX_ATTEMPTS;
    const next = new Date(now.getTime() + backoffDelayMs(attempts - 1, 30_000, 3_600_000, deps.random));
    const message = describeError(error).slice(0, 2000);
    await deps.prisma.$executeRaw`
      UPDATE ops_reactions SET attempts = ${attempts}, last_error = ${message}, status = ${dead ? 'dead' : 'queued'},
        next_attempt_at = ${next}::timestamptz, updated_at = ${now}::timestamptz
      WHERE id = ${r.id}::bigint AND status = 'queued'`;
    deps.logger.warn({ reaction: Number(r.id), attempts, dead, error: message }, 'reaction could not be proposed');
    return dead ? 'dead' : 'retried';
  }
}

/**
 * heartbeat phase `promoteInsights`: once at least `minEvents` `engagement:high` events
 * of the last `windowDays` have not been promoted yet, distil them into ONE
 * `wisdom_patterns` row (source `ops_insight_promotion`) of up to three patterns, by the
 * LLM or, without an API key, by a deterministic extractive fallback.
 *
 * How "promoted" is tracked, without a table of its own: a row's
 * `metadata.event_ids` lists the events it was made from, and candidates exclude any
 * event listed by a row of this source (`NOT EXISTS … metadata->'event_ids' @> id`).
 *
 * - Near duplicate: when the new content's word set has a Jaccard similarity of at least
 *   `similarityThreshold` (0.8) with an existing row of this source, no new row is made;
 *   the events are appended to that row's `metadata.event_ids` (with
 *   `reinforced_count`/`last_reinforced_at`), so the pattern gains evidence and the
 *   events count as promoted. 0.8 keeps rewordings with a different word or two
 *   together while two lists of different recurring topics stay apart.
 * - Concurrency: the LLM call is made outside any transaction (no connection held
 *   across a network call of up to a minute). The write then runs in a short transaction
 *   under `pg_advisory_xact_lock('opsloop:promote_insights')` that re-checks that none of
 *   the events was promoted meanwhile before inserting or appending. Two concurrent
 *   calls therefore promote the events once; the later one discards its result
 *   (`skipped: 'promoted_concurrently'`), at the cost of its LLM call. The heartbeat is
 *   single-flight, so this only happens with manual runs.
 * - Failure: an LLM error (after the client's retries) or an unreadable answer is
 *   thrown, so the heartbeat reports the phase as failed; nothing is marked promoted and
 *   the next heartbeat tries again. Tokens of an unreadable answer are still recorded.
 * - Budget: past `llm_budget.daily_tokens` promotion is skipped for now
 *   (`skipped: 'llm_budget_exceeded'`, one `llm:budget_exceeded` event a day) rather
 *   than falling back to the extractive method: the events keep until the budget resets
 *   and then get the better LLM patterns.
 */
import type { Clock, Logger } from '@opsloop/core';
import { inTransaction, type PrismaClient } from '@opsloop/db';
import { writeEvents } from '../events.ts';
import type { OpsObserver } from '../metrics/observer.ts';
import type { PolicyReader } from '../policy/readPolicy.ts';
import type { LlmClient } from './llm.ts';
import { noteBudgetExceeded, recordUsage, withinBudget } from './llmBudget.ts';
import {
  extractivePatterns,
  jaccard,
  parsePatternsOutput,
  patternsContent,
  PROMOTION_SYSTEM_PROMPT,
  promotionUserPrompt,
  type InsightEvent,
  type InsightPattern,
} from './patterns.ts';

export const INSIGHT_SOURCE = 'ops_insight_promotion';
export const INSIGHT_PURPOSE = 'promote_insights';
const EVENT_KIND = 'engagement:high';

export interface PromoteInsightsDeps {
  prisma: PrismaClient;
  clock: Clock;
  logger: Logger;
  policy: PolicyReader;
  observer?: OpsObserver;
  /** Absent without an API key: the extractive fallback is used. */
  llm?: LlmClient;
  /** Where the token budget's day starts (OPS_TIMEZONE). */
  timeZone: string;
}

export interface PromoteInsightsOptions {
  /** Aborts the LLM call (the heartbeat phase's budget). */
  signal?: AbortSignal;
  /** Unpromoted events needed before anything is promoted. (Default: 3) */
  minEvents?: number;
  /** How far back events are considered. (Default: 7) */
  windowDays?: number;
  /** Most events in one promotion, oldest first; the rest wait for the next run. (Default: 50) */
  maxEvents?: number;
  /** Jaccard similarity of word sets at or above which new content is a near duplicate. (Default: 0.8) */
  similarityThreshold?: number;
}

export type PromotionMethod = 'llm' | 'extractive_fallback';

export interface PromoteInsightsResult {
  /** Events marked promoted by this call. */
  promoted: number;
  /** Their ids (strings: event ids are bigints). */
  eventIds: string[];
  method: PromotionMethod;
  /** The row made, or the near-duplicate row the events were added to. */
  patternId?: string;
  /** Set when the events were added to an existing near-duplicate row. */
  duplicateOf?: string;
  skipped?: 'not_enough_events' | 'llm_budget_exceeded' | 'promoted_concurrently';
}

export async function promoteInsights(deps: PromoteInsightsDeps, options: PromoteInsightsOptions = {}): Promise<PromoteInsightsResult> {
  const minEvents = options.minEvents ?? 3;
  const threshold = options.similarityThreshold ?? 0.8;
  const method: PromotionMethod = deps.llm ? 'llm' : 'extractive_fallback';
  const now = deps.clock.now();

  const events = await unpromotedEvents(deps.prisma, now, options.windowDays ?? 7, options.maxEvents ?? 50);
  if (events.length < minEvents) return { promoted: 0, eventIds: [], method, skipped: 'not_enough_events' };

  let patterns: InsightPattern[];
  let model: string | undefined;
  if (deps.llm) {
    const budget = await withinBudget(deps, now, deps.timeZone);
    if (!budget.within) {
      const wrote = await noteBudgetExceeded(deps.prisma, { purpose: INSIGHT_PURPOSE, status: budget }, now, deps.timeZone);
      if (wrote) deps.logger.warn({ used: budget.used, limit: budget.limit }, 'llm daily token budget exceeded; insight promotion skipped');
      return { promoted: 0, eventIds: [], method, skipped: 'llm_budget_exceeded' };
    }
    const completion = await deps.llm.complete({
      system: PROMOTION_SYSTEM_PROMPT,
      user: promotionUserPrompt(events),
      purpose: INSIGHT_PURPOSE,
      json: true,
      signal: options.signal,
    });
    await recordUsage(deps.prisma, { purpose: INSIGHT_PURPOSE, model: completion.model, usage: completion.usage }, deps.clock.now(), deps.observer);
    patterns = parsePatternsOutput(completion.text);
    model = completion.model;
  } else {
    patterns = extractivePatterns(events);
  }

  const ids = events.map((e) => e.id);
  const eventIds = ids.map(String);
  const content = patternsContent(patterns);
  const outcome = await inTransaction(deps.prisma, async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended('opsloop:promote_insights', 0))`;
    // A new statement after the lock: it sees what a concurrent promoter committed.
    const [taken] = await tx.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM unnest(${ids}::bigint[]) AS e(id)
      WHERE EXISTS (SELECT 1 FROM wisdom_patterns w WHERE w.source = ${INSIGHT_SOURCE} AND w.metadata -> 'event_ids' @> to_jsonb(e.id))`;
    if ((taken?.n ?? 0) > 0) return { kind: 'taken' as const };

    const existing = await tx.wisdomPattern.findMany({
      where: { source: INSIGHT_SOURCE },
      orderBy: { createdAt: 'desc' },
      take: 500,
      select: { id: true, content: true },
    });
    let best: { id: string; similarity: number } | undefined;
    for (const row of existing) {
      const similarity = jaccard(content, row.content);
      if (similarity >= threshold && (!best || similarity > best.similarity)) best = { id: row.id, similarity };
    }

    if (best) {
      await tx.$executeRaw`
        UPDATE wisdom_patterns
        SET metadata = metadata
          || jsonb_build_object(
               'event_ids', coalesce(metadata -> 'event_ids', '[]'::jsonb) || to_jsonb(${ids}::bigint[]),
               'reinforced_count', coalesce((metadata ->> 'reinforced_count')::int, 0) + 1,
               'last_reinforced_at', to_jsonb(${now}::timestamptz))
        WHERE id = ${best.id}::uuid`;
      await writeEvents(tx, [promotedEvent(best.id, eventIds, method, best, now)]);
      return { kind: 'duplicate' as const, patternId: best.id };
    }

    const metadata = { method, ...(model ? { model } : {}), patterns };
    const tags = [...new Set(patterns.flatMap((p) => p.tags))];
    const [row] = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO wisdom_patterns (content, source, tags, metadata, created_at)
      VALUES (${content}, ${INSIGHT_SOURCE}, ${tags}::text[],
              ${JSON.stringify(metadata)}::jsonb || jsonb_build_object('event_ids', to_jsonb(${ids}::bigint[])), ${now})
      RETURNING id::text AS id`;
    await writeEvents(tx, [promotedEvent(row!.id, eventIds, method, undefined, now)]);
    return { kind: 'inserted' as const, patternId: row!.id };
  });

  if (outcome.kind === 'taken') {
    deps.logger.info({ events: eventIds.length }, 'insight promotion discarded: events were promoted concurrently');
    return { promoted: 0, eventIds: [], method, skipped: 'promoted_concurrently' };
  }
  deps.logger.info({ patternId: outcome.patternId, events: eventIds.length, method, duplicate: outcome.kind === 'duplicate' }, 'insights promoted');
  return {
    promoted: eventIds.length,
    eventIds,
    method,
    patternId: outcome.patternId,
    ...(outcome.kind === 'duplicate' ? { duplicateOf: outcome.patternId } : {}),
  };
}

/** `engagement:high` events of the window that no row of this source lists yet, oldest first. */
async function unpromotedEvents(prisma: PrismaClient, now: Date, windowDays: number, limit: number): Promise<InsightEvent[]> {
  const rows = await prisma.$queryRaw<{ id: bigint; created_at: Date; payload: unknown }[]>`
    SELECT e.id, e.created_at, e.payload
    FROM ops_events e
    WHERE e.kind = ${EVENT_KIND}
      AND e.created_at > ${now}::timestamptz - make_interval(days => ${windowDays}::int)
      AND e.created_at <= ${now}::timestamptz
      AND NOT EXISTS (
        SELECT 1 FROM wisdom_patterns w
        WHERE w.source = ${INSIGHT_SOURCE} AND w.metadata -> 'event_ids' @> to_jsonb(e.id))
    ORDER BY e.id
    LIMIT ${limit}::int`;
  return rows.map((r) => ({ id: r.id, createdAt: r.created_at, payload: r.payload }));
}

function promotedEvent(patternId: string, eventIds: string[], method: PromotionMethod, duplicate: { similarity: number } | undefined, now: Date) {
  return {
    kind: 'insight:promoted',
    source: 'ops',
    payload: {
      pattern_id: patternId,
      event_ids: eventIds,
      method,
      ...(duplicate ? { duplicate_of: patternId, similarity: Number(duplicate.similarity.toFixed(3)) } : {}),
    },
    createdAt: now,
  };
}

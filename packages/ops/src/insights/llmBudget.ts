/**
 * The daily LLM token budget (`llm_budget.daily_tokens`), counted over `ops_llm_usage`
 * since local midnight in the configured time zone (OPS_TIMEZONE).
 *
 * The check happens before a call and the call's own usage is only known after it, so
 * one call can overshoot the budget by its own size; the next call is then skipped.
 * A budget of 0 (also the fallback when the policy row is missing) allows no calls.
 */
import type { DbClient, PrismaClient } from '@opsloop/db';
import { inTransaction } from '@opsloop/db';
import { writeEvents } from '../events.ts';
import type { PolicyReader } from '../policy/readPolicy.ts';
import type { OpsObserver } from '../metrics/observer.ts';
import type { LlmUsage } from './llm.ts';

export interface BudgetStatus {
  /** Whether another call may be made today. */
  within: boolean;
  /** Tokens recorded since local midnight. */
  used: number;
  /** `llm_budget.daily_tokens`. */
  limit: number;
}

/** Tokens used since local midnight of `now` in `timeZone`, against `llm_budget.daily_tokens`. */
export async function withinBudget(deps: { prisma: DbClient; policy: PolicyReader }, now: Date, timeZone: string): Promise<BudgetStatus> {
  const [{ llm_budget: budget }, used] = await Promise.all([deps.policy.read(deps.prisma, ['llm_budget']), tokensUsedToday(deps.prisma, now, timeZone)]);
  return { within: used < budget.daily_tokens, used, limit: budget.daily_tokens };
}

export async function tokensUsedToday(db: DbClient, now: Date, timeZone: string): Promise<number> {
  const [row] = await db.$queryRaw<{ used: bigint }[]>`
    SELECT coalesce(sum(total_tokens), 0)::bigint AS used
    FROM ops_llm_usage
    WHERE created_at >= (date_trunc('day', ${now}::timestamptz AT TIME ZONE ${timeZone}) AT TIME ZONE ${timeZone})`;
  return Number(row?.used ?? 0);
}

/** Records one call's token usage (call it whether or not the answer was usable: the tokens were spent). */
export async function recordUsage(db: DbClient, call: { purpose: string; model: string; usage: LlmUsage }, now: Date, observer?: OpsObserver): Promise<void> {
  await db.opsLlmUsage.create({
    data: {
      purpose: call.purpose,
      model: call.model,
      promptTokens: call.usage.prompt_tokens,
      completionTokens: call.usage.completion_tokens,
      totalTokens: call.usage.total_tokens,
      createdAt: now,
    },
  });
  observer?.llmTokens(call.purpose, call.usage.total_tokens);
}

/**
 * Writes an `llm:budget_exceeded` warning event, at most once per local day (an
 * advisory lock makes the check-then-insert safe against a concurrent caller).
 * Returns whether it wrote one.
 */
export async function noteBudgetExceeded(
  prisma: PrismaClient,
  details: { purpose: string; status: BudgetStatus },
  now: Date,
  timeZone: string,
): Promise<boolean> {
  return inTransaction(prisma, async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended('opsloop:llm_budget_exceeded', 0))`;
    const [seen] = await tx.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM ops_events
      WHERE kind = 'llm:budget_exceeded'
        AND created_at >= (date_trunc('day', ${now}::timestamptz AT TIME ZONE ${timeZone}) AT TIME ZONE ${timeZone})`;
    if ((seen?.n ?? 0) > 0) return false;
    await writeEvents(tx, [
      {
        kind: 'llm:budget_exceeded',
        source: 'llm',
        tags: ['warning'],
        payload: { purpose: details.purpose, used_tokens: details.status.used, daily_tokens: details.status.limit, time_zone: timeZone },
        createdAt: now,
      },
    ]);
    return true;
  });
}

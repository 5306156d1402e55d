import type { Clock } from '@opsloop/core';
import type { PrismaClient } from '@opsloop/db';
import { readAccount } from '../safety/account.ts';
import { readEngagementState } from './state.ts';

/**
 * `GET /api/ops/moltbook`: what an operator needs to see at a glance — the breaker, the
 * pacing state, the last 50 challenges, today's reply counts, and the watched posts with
 * the comments still waiting (as counted by the last reply-monitor run, so this view
 * never spends a Moltbook request).
 */
export async function moltbookOverview(deps: { prisma: PrismaClient; clock: Clock; timeZone: string }, accountId: string | null) {
  const now = deps.clock.now();
  const account = accountId ? await readAccount(deps.prisma, accountId) : null;
  const [range] = await deps.prisma.$queryRaw<{ start: Date }[]>`
    SELECT (date_trunc('day', ${now}::timestamptz AT TIME ZONE ${deps.timeZone}) AT TIME ZONE ${deps.timeZone}) AS start`;
  const start = range!.start;
  const [challenges, [today], lastRun, state] = await Promise.all([
    deps.prisma.moltbookChallenge.findMany({ where: accountId ? { accountId } : {}, orderBy: { receivedAt: 'desc' }, take: 50 }),
    deps.prisma.$queryRaw<{ sent: number; skipped: number; unconfirmed: number; verified: number; failed: number }[]>`
      SELECT
        (SELECT count(*)::int FROM moltbook_handled_comment_events WHERE action <> 'skipped' AND reply_comment_id IS NOT NULL AND handled_at >= ${start}) AS sent,
        (SELECT count(*)::int FROM moltbook_handled_comment_events WHERE action = 'skipped' AND handled_at >= ${start}) AS skipped,
        (SELECT count(*)::int FROM moltbook_handled_comment_events WHERE handled_at IS NULL) AS unconfirmed,
        (SELECT count(*)::int FROM moltbook_challenges WHERE outcome = 'verified' AND received_at >= ${start}) AS verified,
        (SELECT count(*)::int FROM moltbook_challenges WHERE outcome NOT IN ('verified', 'pending') AND received_at >= ${start}) AS failed`,
    deps.prisma.opsEvent.findFirst({ where: { kind: 'moltbook:reply_monitor' }, orderBy: { id: 'desc' }, select: { payload: true, createdAt: true } }),
    readEngagementState(deps.prisma),
  ]);
  const unanswered = ((lastRun?.payload as { unanswered_by_post?: Record<string, number> } | undefined)?.unanswered_by_post ?? {}) as Record<string, number>;
  const watched = [...new Set([...state.watchedPostIds, ...Object.keys(unanswered)])];
  return {
    configured: account !== null,
    breaker: account
      ? {
          state: account.breaker_state,
          reason: account.breaker_reason,
          detail: account.breaker_detail,
          openedAt: account.breaker_opened_at,
          pausedUntil: account.paused_until,
          probeStartedAt: account.probe_started_at,
          consecutiveFailures: account.consecutive_failures,
        }
      : null,
    rateLimits: account
      ? {
          commentIntervalSeconds: account.comment_interval_seconds,
          commentsPerDay: account.comments_per_day,
          postIntervalSeconds: account.post_interval_seconds,
          commentsToday: account.comments_day === now.toISOString().slice(0, 10) ? account.comments_today : 0,
          nextCommentAt: account.next_comment_at,
          nextPostAt: account.next_post_at,
          nextWriteAt: account.next_write_at,
          writeLimit: account.write_limit,
          writeRemaining: account.write_remaining,
          writeResetAt: account.write_reset_at,
          lastRateLimitedAt: account.last_rate_limited_at,
        }
      : null,
    today: {
      from: start,
      repliesSent: today!.sent,
      skipped: today!.skipped,
      unconfirmed: today!.unconfirmed,
      challengesVerified: today!.verified,
      challengesFailed: today!.failed,
    },
    challenges: challenges.map((c) => ({
      code: c.code,
      entityType: c.entityType,
      entityId: c.entityId,
      text: c.challengeText,
      answer: c.answer,
      method: c.method,
      outcome: c.outcome,
      receivedAt: c.receivedAt,
      submittedAt: c.submittedAt,
      latencyMs: c.latencyMs,
      detail: c.detail,
    })),
    watchedPosts: watched.map((postId) => ({ postId, unansweredComments: unanswered[postId] ?? null })),
    watchedPostsAsOf: lastRun?.createdAt ?? null,
    generatedAt: now,
  };
}

import type { SummarySection } from '@opsloop/ops';

export interface MoltbookSummary {
  replyMonitorRuns: number;
  repliesSent: number;
  /** Goal: below 1 %. */
  replyJobFailureRate: number | null;
  /** Comments seen with more than one reply of ours. Goal: 0. */
  duplicateReplies: number;
  rateLimited: number;
  /** Comments refused for good (4xx) or given up as unconfirmed, that day. */
  repliesSkipped: number;
  /** Intents whose outcome is still unknown (now). */
  repliesUnconfirmed: number;
  challengesVerified: number;
  /** Wrong, expired, not answered or unknown. Goal: 0 (two in a row open the breaker). */
  challengesFailed: number;
  /** Times the breaker opened that day. */
  breakerOpened: number;
  /** The breaker now (the most recently changed account). */
  breaker: { state: string; reason: string | null; pausedUntil: Date | null } | null;
}

/** The daily summary's `moltbook` section: reply monitor runs, replies, failures, duplicates, rate limits. */
export const moltbookSummarySection: SummarySection<MoltbookSummary> = {
  key: 'moltbook',
  async collect(db, { start, end }) {
    const [engagement] = await db.$queryRaw<{ runs: number; replies: number; rate_limited: number; duplicates: number; step_runs: number; step_failures: number }[]>`
      SELECT
        (SELECT count(*)::int FROM ops_events WHERE kind = 'moltbook:reply_monitor' AND created_at >= ${start} AND created_at < ${end}) AS runs,
        (SELECT coalesce(sum((payload ->> 'replies_sent')::int), 0)::int FROM ops_events
           WHERE kind = 'moltbook:reply_monitor' AND created_at >= ${start} AND created_at < ${end}) AS replies,
        (SELECT count(*)::int FROM ops_events WHERE kind IN ('moltbook:reply_monitor', 'moltbook:second_post')
           AND (payload ->> 'rate_limited')::boolean AND created_at >= ${start} AND created_at < ${end}) AS rate_limited,
        (SELECT coalesce(sum((payload ->> 'duplicates_seen')::int), 0)::int FROM ops_events
           WHERE kind = 'moltbook:reply_monitor' AND created_at >= ${start} AND created_at < ${end}) AS duplicates,
        (SELECT count(*)::int FROM ops_step_runs WHERE kind = 'moltbook.reply_monitor' AND outcome <> 'running'
           AND started_at >= ${start} AND started_at < ${end}) AS step_runs,
        (SELECT count(*)::int FROM ops_step_runs WHERE kind = 'moltbook.reply_monitor' AND outcome IN ('failed', 'timed_out', 'lost')
           AND started_at >= ${start} AND started_at < ${end}) AS step_failures`;
    const [safety] = await db.$queryRaw<{ skipped: number; unconfirmed: number; verified: number; failed: number; opened: number }[]>`
      SELECT
        (SELECT count(*)::int FROM moltbook_handled_comment_events WHERE action = 'skipped' AND handled_at >= ${start} AND handled_at < ${end}) AS skipped,
        (SELECT count(*)::int FROM moltbook_handled_comment_events WHERE handled_at IS NULL) AS unconfirmed,
        (SELECT count(*)::int FROM moltbook_challenges WHERE outcome = 'verified' AND received_at >= ${start} AND received_at < ${end}) AS verified,
        (SELECT count(*)::int FROM moltbook_challenges WHERE outcome NOT IN ('verified', 'pending') AND received_at >= ${start} AND received_at < ${end}) AS failed,
        (SELECT count(*)::int FROM ops_events WHERE kind = 'moltbook:breaker_opened' AND created_at >= ${start} AND created_at < ${end}) AS opened`;
    const account = await db.moltbookAccount.findFirst({ orderBy: { updatedAt: 'desc' }, select: { breakerState: true, breakerReason: true, pausedUntil: true } });
    return {
      repliesSkipped: safety!.skipped,
      repliesUnconfirmed: safety!.unconfirmed,
      challengesVerified: safety!.verified,
      challengesFailed: safety!.failed,
      breakerOpened: safety!.opened,
      breaker: account ? { state: account.breakerState, reason: account.breakerReason, pausedUntil: account.pausedUntil } : null,
      replyMonitorRuns: engagement!.runs,
      repliesSent: engagement!.replies,
      replyJobFailureRate: engagement!.step_runs ? Number((engagement!.step_failures / engagement!.step_runs).toFixed(4)) : null,
      duplicateReplies: engagement!.duplicates,
      rateLimited: engagement!.rate_limited,
    };
  },
  format: (m) =>
    `Moltbook: ${m.repliesSent} replies in ${m.replyMonitorRuns} runs, failure rate ${m.replyJobFailureRate === null ? 'n/a' : `${(m.replyJobFailureRate * 100).toFixed(1)}%`}, duplicates ${m.duplicateReplies}, rate-limited ${m.rateLimited}×, ` +
    `skipped ${m.repliesSkipped}, unconfirmed ${m.repliesUnconfirmed}, challenges ${m.challengesVerified} verified / ${m.challengesFailed} failed` +
    (m.breaker && m.breaker.state !== 'closed'
      ? ` — :octagonal_sign: writes stopped (${m.breaker.reason ?? 'breaker'}) until ${m.breaker.pausedUntil?.toISOString() ?? 'reset'}`
      : m.breakerOpened > 0
        ? ` — breaker opened ${m.breakerOpened}×`
        : ''),
};

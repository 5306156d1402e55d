import type { SummarySection } from '@opsloop/ops';

export interface MoltbookSummary {
  replyMonitorRuns: number;
  repliesSent: number;
  /** Goal: below 1 %. */
  replyJobFailureRate: number | null;
  /** Comments seen with more than one reply of ours. Goal: 0. */
  duplicateReplies: number;
  rateLimited: number;
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
    return {
      replyMonitorRuns: engagement!.runs,
      repliesSent: engagement!.replies,
      replyJobFailureRate: engagement!.step_runs ? Number((engagement!.step_failures / engagement!.step_runs).toFixed(4)) : null,
      duplicateReplies: engagement!.duplicates,
      rateLimited: engagement!.rate_limited,
    };
  },
  format: (m) =>
    `Moltbook: ${m.repliesSent} replies in ${m.replyMonitorRuns} runs, failure rate ${m.replyJobFailureRate === null ? 'n/a' : `${(m.replyJobFailureRate * 100).toFixed(1)}%`}, duplicates ${m.duplicateReplies}, rate-limited ${m.rateLimited}×`,
};

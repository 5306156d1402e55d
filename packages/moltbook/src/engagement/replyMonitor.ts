import { writeEvents } from '@opsloop/ops';
import { flattenComments } from '../client.ts';
import { MoltbookApiError } from '../errors.ts';
import type { Comment } from '../types.ts';
import { templateReply, type EngagementDeps } from './context.ts';
import { readEngagementState } from './state.ts';

/**
 * How long an intent whose outcome is unknown (the process died, or the POST timed out
 * or lost its connection) is re-checked against the thread before we give up on it. We
 * never resend after an unknown outcome: a reply hidden by verification would be posted
 * twice, and duplicates get agents suspended. Past the grace the comment is recorded as
 * `skipped` and a `moltbook:reply_unconfirmed` event asks a person to look.
 */
export const INTENT_GRACE_MS = 30 * 60_000;

export interface ReplyMonitorResult {
  posts_checked: number;
  replies_sent: number;
  recorded_existing: number;
  unconfirmed: number;
  given_up: number;
  /** Comments that already carry more than one reply of ours (should stay 0). */
  duplicates_seen: number;
  rate_limited: boolean;
  retry_after_ms: number | null;
}

interface HandledRow {
  source_comment_id: string;
  handled_at: Date | null;
  intent_at: Date;
  reply_content: string | null;
}

const newestFirst = (a: Comment, b: Comment) => (b.created_at ?? '').localeCompare(a.created_at ?? '');

/**
 * `moltbook.reply_monitor`: answers each new comment on the watched posts exactly once.
 * The intent is recorded under the comment's primary key before sending, and the reply
 * id after; a comment someone else holds the intent for is left alone; an intent whose
 * outcome is unknown is resolved by finding our reply in the thread.
 */
export async function runReplyMonitor(
  deps: EngagementDeps,
  params: { max_replies?: number; post_ids?: string[] },
  /** Aborted when the process starts shutting down: no new reply is sent after that. */
  stopping?: AbortSignal,
): Promise<ReplyMonitorResult> {
  const result: ReplyMonitorResult = { posts_checked: 0, replies_sent: 0, recorded_existing: 0, unconfirmed: 0, given_up: 0, duplicates_seen: 0, rate_limited: false, retry_after_ms: null };
  const max = params.max_replies ?? deps.maxRepliesPerRun;
  const { moltbook_engagement: policy } = await deps.policy.read(deps.prisma, ['moltbook_engagement']);
  const me = await deps.client.getMe();
  const state = await readEngagementState(deps.prisma);
  const posts = [...new Set([...state.watchedPostIds, ...deps.watchPostIds, ...(params.post_ids ?? [])])];

  let stop = false;
  for (const postId of posts) {
    if (stop) break;
    result.posts_checked++;
    const comments = flattenComments(await deps.client.listAllComments(postId, { sort: 'new' }));
    const handled = new Map(
      (
        await deps.prisma.$queryRaw<HandledRow[]>`
          SELECT source_comment_id, handled_at, intent_at, reply_content FROM moltbook_handled_comment_events
          WHERE source_comment_id = ANY(${comments.map((c) => c.id)}::text[])`
      ).map((r) => [r.source_comment_id, r]),
    );
    const children = new Map<string, Comment[]>();
    for (const c of comments) if (c.parent_id) children.set(c.parent_id, [...(children.get(c.parent_id) ?? []), c]);

    for (const comment of [...comments].sort(newestFirst)) {
      if (comment.author?.name === me.name) continue; // our own
      const kids = children.get(comment.id) ?? [];
      const oursAll = kids.filter((k) => k.author?.name === me.name);
      result.duplicates_seen += Math.max(0, oursAll.length - 1);
      const row = handled.get(comment.id);
      if (row?.handled_at) continue;
      const ours = oursAll[0];
      const action = comment.parent_id ? 'replied_to_reply' : 'replied';
      const now = deps.clock.now();
      if (ours) {
        // Answered already (a crash between sending and recording, or before this table).
        await deps.prisma.$executeRaw`
          INSERT INTO moltbook_handled_comment_events (source_comment_id, post_id, action, reply_comment_id, reply_content, claimed_by, intent_at, handled_at)
          VALUES (${comment.id}, ${postId}, ${action}, ${ours.id}, ${ours.content}, ${deps.workerId}, ${now}::timestamptz, ${now}::timestamptz)
          ON CONFLICT (source_comment_id) DO UPDATE SET reply_comment_id = excluded.reply_comment_id, handled_at = excluded.handled_at
          WHERE moltbook_handled_comment_events.handled_at IS NULL`;
        result.recorded_existing++;
        continue;
      }
      if (row) {
        // Intent without a visible reply: in flight elsewhere, or its outcome is unknown.
        if (now.getTime() - row.intent_at.getTime() < INTENT_GRACE_MS) {
          result.unconfirmed++;
          continue;
        }
        const gaveUp = await deps.prisma.$executeRaw`
          UPDATE moltbook_handled_comment_events SET action = 'skipped', handled_at = ${now}::timestamptz
          WHERE source_comment_id = ${comment.id} AND handled_at IS NULL`;
        if (gaveUp) {
          result.given_up++;
          await writeEvents(deps.prisma, [
            { kind: 'moltbook:reply_unconfirmed', source: 'moltbook', skill: 'moltbook_engagement', tags: ['warning'], payload: { post_id: postId, comment_id: comment.id }, createdAt: now },
          ]);
        }
        continue;
      }
      if (kids.some((k) => k.author === null)) continue; // author hidden (outage): cannot tell if it is ours
      if (result.replies_sent >= max || stopping?.aborted) {
        stop = true;
        break;
      }

      let text: string;
      try {
        text = deps.writeReply ? await deps.writeReply({ comment, post: { id: postId, title: '' }, persona: policy.persona_prompt }) : templateReply({ comment });
      } catch (error) {
        deps.logger.warn({ err: error }, 'reply writer failed; using the template');
        text = templateReply({ comment });
      }
      const claimed = await deps.prisma.$executeRaw`
        INSERT INTO moltbook_handled_comment_events (source_comment_id, post_id, action, reply_content, claimed_by, intent_at)
        VALUES (${comment.id}, ${postId}, ${action}, ${text}, ${deps.workerId}, ${now}::timestamptz)
        ON CONFLICT (source_comment_id) DO NOTHING`;
      if (!claimed) continue; // another worker holds it

      try {
        const created = await deps.client.createComment(postId, { content: text, parent_id: comment.id });
        await deps.prisma.$executeRaw`
          UPDATE moltbook_handled_comment_events SET reply_comment_id = ${created.comment.id}, handled_at = ${deps.clock.now()}::timestamptz
          WHERE source_comment_id = ${comment.id}`;
        result.replies_sent++;
      } catch (error) {
        if (error instanceof MoltbookApiError && error.status >= 400 && error.status < 500) {
          // A definite refusal (rate limit, validation): nothing was posted. Release the
          // intent so a later run can answer this comment.
          await deps.prisma.$executeRaw`DELETE FROM moltbook_handled_comment_events WHERE source_comment_id = ${comment.id} AND handled_at IS NULL`;
          if (error.status === 429) {
            result.rate_limited = true;
            result.retry_after_ms = (error as { retryAfterMs?: number }).retryAfterMs ?? null;
            stop = true;
            break;
          }
          throw error;
        }
        // Timeout, dropped connection, 5xx: it may have landed. Keep the intent; the next
        // run looks for our reply in the thread.
        result.unconfirmed++;
        deps.logger.warn({ commentId: comment.id, err: error }, 'reply outcome unknown; will check the thread next run');
        stop = true;
        break;
      }
    }
  }

  deps.logger.info({ 'reply_monitor.replies_sent': result.replies_sent, rate_limited: result.rate_limited }, 'moltbook reply monitor');
  await writeEvents(deps.prisma, [
    { kind: 'moltbook:reply_monitor', source: 'moltbook', skill: 'moltbook_engagement', payload: { ...result }, createdAt: deps.clock.now() },
  ]);
  return result;
}

import { writeEvents } from '@opsloop/ops';
import { flattenComments } from '../client.ts';
import { MoltbookApiError, MoltbookRateLimitError, MoltbookSuspendedError } from '../errors.ts';
import type { Comment } from '../types.ts';
import { acquireWrite, openBreaker, recordWriteAccepted, writesPaused } from '../safety/breaker.ts';
import { pace, recordRateLimited, recordWrite } from '../safety/pacing.ts';
import { answerChallenge, sweepChallenges } from '../verification/answerChallenge.ts';
import { abortableSleep, templateReply, type EngagementDeps } from './context.ts';
import { readEngagementState } from './state.ts';

/**
 * How long an intent whose outcome is unknown (the process died, or the POST timed out
 * or lost its connection) is re-checked against the thread before we give up on it. We
 * never resend after an unknown outcome: a reply hidden by verification would be posted
 * twice, and duplicates get agents suspended. Past the grace the comment is recorded as
 * `skipped` and a `moltbook:reply_unconfirmed` event asks a person to look.
 */
export const INTENT_GRACE_MS = 30 * 60_000;
/** After an unknown outcome, the thread is read again this often while the run has time. */
export const RECHECK_INTERVAL_MS = 60_000;
/** Time a run allows itself, waits included (the step's timeout is 240 s). (Default: 180 s) */
export const RUN_BUDGET_MS = 180_000;
/** Longest single wait for a cooldown inside a run; a longer one ends the run. */
const MAX_PACING_WAIT_MS = 65_000;

export interface ReplyMonitorResult {
  /** `paused`: the breaker is open and nothing was written. */
  action: 'ran' | 'paused';
  posts_checked: number;
  replies_sent: number;
  recorded_existing: number;
  unconfirmed: number;
  given_up: number;
  /** Comments refused for good (4xx other than 429), recorded as skipped with the reason. */
  skipped: number;
  /** Comments left for a later run because an author (theirs, or a reply's) is not visible. */
  author_hidden: number;
  /** Comments that already carry more than one reply of ours (should stay 0). */
  duplicates_seen: number;
  challenges_verified: number;
  challenges_failed: number;
  rate_limited: boolean;
  retry_after_ms: number | null;
  /** When pacing stopped the run: the earliest time the next comment will be accepted. */
  paced_until: Date | null;
  /** The worker's signal ended the run (shutdown): no write started after it. */
  aborted: boolean;
  breaker: { reason: string | null; paused_until: Date | null } | null;
  /** Per watched post: comments still waiting for an answer after this run. */
  unanswered_by_post: Record<string, number>;
}

export interface ReplyMonitorParams {
  max_replies?: number;
  post_ids?: string[];
}

export interface RunOptions {
  /** The worker's signal: once aborted, no new write starts. */
  signal?: AbortSignal;
  /** (Default: RUN_BUDGET_MS) */
  budgetMs?: number;
}

interface HandledRow {
  source_comment_id: string;
  handled_at: Date | null;
  intent_at: Date;
}

interface Candidate {
  postId: string;
  postIndex: number;
  comment: Comment;
}

const oldestFirst = (a: Candidate, b: Candidate) => (a.comment.created_at ?? '').localeCompare(b.comment.created_at ?? '') || a.postIndex - b.postIndex;

/**
 * `moltbook.reply_monitor`: answers each new comment on the watched posts exactly once.
 *
 * - Exactly once: the intent is recorded under the comment's primary key before sending,
 *   the reply id after; an intent whose outcome is unknown is resolved by finding our
 *   reply in the thread (at the start of every run, and once a minute within the run
 *   that lost the outcome, while it has time).
 * - Never answers what may be ours: comments by our name, comments whose id is one of our
 *   recorded replies, and comments whose author (or whose replies' authors) Moltbook does
 *   not show; those wait for a run where authors are visible again.
 * - Fair: the oldest unanswered comment across all watched posts goes first.
 * - Safe: each write asks the breaker first and waits for (or stops at) the pacing the
 *   server's numbers allow; each reply's challenge is answered at once; a definite
 *   refusal skips that comment only; a suspension or refused key opens the breaker.
 */
export async function runReplyMonitor(deps: EngagementDeps, params: ReplyMonitorParams, options: RunOptions = {}): Promise<ReplyMonitorResult> {
  const result: ReplyMonitorResult = {
    action: 'ran',
    posts_checked: 0,
    replies_sent: 0,
    recorded_existing: 0,
    unconfirmed: 0,
    given_up: 0,
    skipped: 0,
    author_hidden: 0,
    duplicates_seen: 0,
    challenges_verified: 0,
    challenges_failed: 0,
    rate_limited: false,
    retry_after_ms: null,
    paced_until: null,
    aborted: false,
    breaker: null,
    unanswered_by_post: {},
  };
  const { signal } = options;
  const started = deps.clock.now().getTime();
  const timeLeft = () => (options.budgetMs ?? RUN_BUDGET_MS) - (deps.clock.now().getTime() - started);
  const sleep = deps.sleep ?? abortableSleep;

  await sweepChallenges(deps);
  const paused = await writesPaused(deps, deps.accountId);
  if (paused.paused) {
    result.action = 'paused';
    result.breaker = { reason: paused.reason, paused_until: paused.pausedUntil };
  } else {
    try {
      await monitor(deps, params, result, { signal, timeLeft, sleep });
    } catch (error) {
      if (!(await openBreakerFor(deps, error))) throw error;
      result.action = 'paused';
      const now = await writesPaused(deps, deps.accountId);
      result.breaker = { reason: now.reason, paused_until: now.pausedUntil };
    }
  }

  deps.logger.info({ 'reply_monitor.replies_sent': result.replies_sent, action: result.action, rate_limited: result.rate_limited }, 'moltbook reply monitor');
  await writeEvents(deps.prisma, [
    { kind: 'moltbook:reply_monitor', source: 'moltbook', skill: 'moltbook_engagement', payload: { ...result }, createdAt: deps.clock.now() },
  ]);
  return result;
}

/**
 * A 401/403 anywhere in a run stops all writes: a suspension until its stated end, any
 * other (a refused key) for the policy's pause. Returns whether `error` was one.
 */
export async function openBreakerFor(deps: EngagementDeps, error: unknown): Promise<boolean> {
  if (error instanceof MoltbookSuspendedError) {
    await openBreaker(deps, deps.accountId, 'suspended', `${error.serverMessage}${error.hint ? ` — ${error.hint}` : ''}`, error.endsAt);
    return true;
  }
  if (error instanceof MoltbookApiError && (error.status === 401 || error.status === 403)) {
    await openBreaker(deps, deps.accountId, 'unauthorized', `${error.status}: ${error.serverMessage}`);
    return true;
  }
  return false;
}

async function monitor(
  deps: EngagementDeps,
  params: ReplyMonitorParams,
  result: ReplyMonitorResult,
  run: { signal?: AbortSignal; timeLeft: () => number; sleep: (ms: number, signal?: AbortSignal) => Promise<void> },
): Promise<void> {
  const max = params.max_replies ?? deps.maxRepliesPerRun;
  const { moltbook_engagement: policy } = await deps.policy.read(deps.prisma, ['moltbook_engagement']);
  const me = await deps.client.getMe();
  const state = await readEngagementState(deps.prisma);
  const posts = [...new Set([...state.watchedPostIds, ...deps.watchPostIds, ...(params.post_ids ?? [])])];

  const threads = new Map<string, Comment[]>();
  for (const postId of posts) {
    threads.set(postId, flattenComments(await deps.client.listAllComments(postId, { sort: 'new' })));
    result.posts_checked++;
  }
  const allIds = [...threads.values()].flatMap((cs) => cs.map((c) => c.id));
  const handled = new Map(
    (
      await deps.prisma.$queryRaw<HandledRow[]>`
        SELECT source_comment_id, handled_at, intent_at FROM moltbook_handled_comment_events WHERE source_comment_id = ANY(${allIds}::text[])`
    ).map((r) => [r.source_comment_id, r]),
  );
  // Our replies by id: they stay ours even while Moltbook shows them without an author.
  const ourReplyIds = new Set(
    (
      await deps.prisma.$queryRaw<{ reply_comment_id: string }[]>`
        SELECT reply_comment_id FROM moltbook_handled_comment_events WHERE reply_comment_id = ANY(${allIds}::text[])`
    ).map((r) => r.reply_comment_id),
  );
  const isOurs = (c: Comment) => c.author?.name === me.name || ourReplyIds.has(c.id);

  const candidates: Candidate[] = [];
  for (const [postIndex, postId] of posts.entries()) {
    const comments = threads.get(postId)!;
    const children = new Map<string, Comment[]>();
    for (const c of comments) if (c.parent_id) children.set(c.parent_id, [...(children.get(c.parent_id) ?? []), c]);
    let waiting = 0;
    for (const comment of comments) {
      if (isOurs(comment)) continue;
      const kids = children.get(comment.id) ?? [];
      const oursAll = kids.filter(isOurs);
      result.duplicates_seen += Math.max(0, oursAll.length - 1);
      const row = handled.get(comment.id);
      if (row?.handled_at) continue;
      const ours = oursAll[0];
      if (ours) {
        await recordFound(deps, postId, comment, ours);
        result.recorded_existing++;
        continue;
      }
      if (row) {
        if (await resolveStaleIntent(deps, postId, comment.id, row)) result.given_up++;
        else {
          result.unconfirmed++;
          waiting++;
        }
        continue;
      }
      if (comment.author === null || kids.some((k) => k.author === null)) {
        // Outage: we cannot tell whether it (or an answer to it) is ours. Later.
        result.author_hidden++;
        waiting++;
        continue;
      }
      candidates.push({ postId, postIndex, comment });
      waiting++;
    }
    result.unanswered_by_post[postId] = waiting;
  }

  const lost: Candidate[] = [];
  for (const candidate of candidates.sort(oldestFirst)) {
    if (result.replies_sent >= max) break;
    const { postId, comment } = candidate;

    if (result.challenges_failed > 0) {
      // A failed challenge may have opened the breaker: do not wait out a cooldown for nothing.
      const breaker = await writesPaused(deps, deps.accountId);
      if (breaker.paused) {
        result.action = 'paused';
        result.breaker = { reason: breaker.reason, paused_until: breaker.pausedUntil };
        break;
      }
    }
    let decision = await pace(deps.prisma, deps.accountId, 'comment', deps.clock.now());
    if (!decision.go && decision.waitMs <= MAX_PACING_WAIT_MS && decision.waitMs < run.timeLeft() - 5000) {
      await run.sleep(decision.waitMs, run.signal);
      decision = await pace(deps.prisma, deps.accountId, 'comment', deps.clock.now());
    }
    if (run.signal?.aborted) {
      result.aborted = true;
      break;
    }
    if (!decision.go) {
      result.paced_until = decision.until;
      break;
    }

    let text: string;
    try {
      text = deps.writeReply ? await deps.writeReply({ comment, post: { id: postId, title: '' }, persona: policy.persona_prompt }) : templateReply({ comment });
    } catch (error) {
      deps.logger.warn({ err: error }, 'reply writer failed; using the template');
      text = templateReply({ comment });
    }
    const action = comment.parent_id ? 'replied_to_reply' : 'replied';
    const claimed = await deps.prisma.$executeRaw`
      INSERT INTO moltbook_handled_comment_events (source_comment_id, post_id, action, reply_content, claimed_by, intent_at)
      VALUES (${comment.id}, ${postId}, ${action}, ${text}, ${deps.workerId}, ${deps.clock.now()}::timestamptz)
      ON CONFLICT (source_comment_id) DO NOTHING`;
    if (!claimed) continue; // another worker holds it
    const release = () => deps.prisma.$executeRaw`DELETE FROM moltbook_handled_comment_events WHERE source_comment_id = ${comment.id} AND handled_at IS NULL`;

    const permit = await acquireWrite(deps, deps.accountId);
    // The last look before the write: after the shutdown signal, nothing new is sent.
    if (!permit.allowed || run.signal?.aborted) {
      await release();
      if (!permit.allowed) {
        result.action = 'paused';
        result.breaker = { reason: permit.reason, paused_until: permit.pausedUntil };
      } else result.aborted = true;
      break;
    }

    try {
      const created = await deps.client.createComment(postId, { content: text, parent_id: comment.id });
      const receivedAt = deps.clock.now();
      await deps.prisma.$executeRaw`
        UPDATE moltbook_handled_comment_events SET reply_comment_id = ${created.comment.id}, handled_at = ${receivedAt}::timestamptz
        WHERE source_comment_id = ${comment.id}`;
      await recordWrite(deps.prisma, deps.accountId, 'comment', receivedAt, created.rateLimit);
      result.replies_sent++;
      result.unanswered_by_post[postId] = Math.max(0, (result.unanswered_by_post[postId] ?? 1) - 1);
      // The challenge of a reply already sent is answered even after the shutdown signal:
      // it is not a new write, and an unanswered one counts against the account.
      if (created.verification) {
        const answered = await answerChallenge(deps, { challenge: created.verification, entityType: 'comment', entityId: created.comment.id, receivedAt });
        if (answered.outcome === 'verified') result.challenges_verified++;
        else if (answered.outcome !== 'handled_elsewhere') result.challenges_failed++;
      } else {
        await recordWriteAccepted(deps, deps.accountId, permit.probe);
      }
    } catch (error) {
      const next = await onWriteError(deps, error, { postId, comment, release, probe: permit.probe }, result);
      if (next === 'skip') continue;
      if (next === 'lost') lost.push(candidate);
      break;
    }
  }

  await recheckLost(deps, lost, me.name, result, run);
}

/** What a failed reply means for this comment and for the run. */
async function onWriteError(
  deps: EngagementDeps,
  error: unknown,
  ctx: { postId: string; comment: Comment; release: () => Promise<number>; probe: boolean },
  result: ReplyMonitorResult,
): Promise<'skip' | 'stop' | 'lost'> {
  const now = deps.clock.now();
  if (error instanceof MoltbookApiError && error.verification) {
    // A refusal that carries a challenge (an earlier one to answer first): answer it, and
    // leave this comment for a later run.
    await ctx.release();
    await answerChallenge(deps, { challenge: error.verification, entityType: 'comment', entityId: null, receivedAt: now });
    return 'stop';
  }
  if (error instanceof MoltbookRateLimitError) {
    await ctx.release();
    const until = await recordRateLimited(deps.prisma, deps.accountId, 'comment', now, error);
    result.rate_limited = true;
    result.retry_after_ms = error.retryAfterMs;
    result.paced_until = until;
    return 'stop';
  }
  if (await openBreakerFor(deps, error)) {
    await ctx.release();
    result.action = 'paused';
    return 'stop';
  }
  if (error instanceof MoltbookApiError && error.status >= 400 && error.status < 500) {
    // A definite refusal of this one reply (comment deleted, validation): nothing was
    // posted and retrying cannot help. Skip it, say why, and go on with the next.
    const reason = `${error.status}: ${error.serverMessage}`.slice(0, 500);
    await deps.prisma.$executeRaw`
      UPDATE moltbook_handled_comment_events SET action = 'skipped', skip_reason = ${reason}, handled_at = ${now}::timestamptz
      WHERE source_comment_id = ${ctx.comment.id} AND handled_at IS NULL`;
    await writeEvents(deps.prisma, [
      {
        kind: 'moltbook:reply_skipped',
        source: 'moltbook',
        skill: 'moltbook_engagement',
        tags: ['warning'],
        payload: { post_id: ctx.postId, comment_id: ctx.comment.id, status: error.status, reason },
        createdAt: now,
      },
    ]);
    result.skipped++;
    result.unanswered_by_post[ctx.postId] = Math.max(0, (result.unanswered_by_post[ctx.postId] ?? 1) - 1);
    // The key can write: a half-open probe has its answer.
    await recordWriteAccepted(deps, deps.accountId, ctx.probe);
    return 'skip';
  }
  // Timeout, dropped connection, 5xx, an unreadable answer: it may have landed. Keep the
  // intent; look for it in the thread (below, and at the start of the next run).
  result.unconfirmed++;
  deps.logger.warn({ commentId: ctx.comment.id, err: error }, 'reply outcome unknown; re-checking the thread');
  return 'lost';
}

/** Once a minute while the run has time: is the reply whose outcome we lost in the thread? */
async function recheckLost(
  deps: EngagementDeps,
  lost: Candidate[],
  myName: string,
  result: ReplyMonitorResult,
  run: { signal?: AbortSignal; timeLeft: () => number; sleep: (ms: number, signal?: AbortSignal) => Promise<void> },
): Promise<void> {
  let pending = [...lost];
  while (pending.length > 0 && run.timeLeft() > RECHECK_INTERVAL_MS + 10_000 && !run.signal?.aborted) {
    await run.sleep(RECHECK_INTERVAL_MS, run.signal);
    if (run.signal?.aborted) break;
    const still: Candidate[] = [];
    for (const c of pending) {
      const thread = flattenComments(await deps.client.listAllComments(c.postId, { sort: 'new' }));
      const ours = thread.find((k) => k.parent_id === c.comment.id && k.author?.name === myName);
      if (ours) {
        await recordFound(deps, c.postId, c.comment, ours);
        result.recorded_existing++;
        result.unconfirmed--;
      } else still.push(c);
    }
    pending = still;
  }
}

/** Our reply is in the thread: record it (a crash between sending and recording, or a lost answer). */
async function recordFound(deps: EngagementDeps, postId: string, comment: Comment, ours: Comment): Promise<void> {
  const now = deps.clock.now();
  const action = comment.parent_id ? 'replied_to_reply' : 'replied';
  await deps.prisma.$executeRaw`
    INSERT INTO moltbook_handled_comment_events (source_comment_id, post_id, action, reply_comment_id, reply_content, claimed_by, intent_at, handled_at)
    VALUES (${comment.id}, ${postId}, ${action}, ${ours.id}, ${ours.content}, ${deps.workerId}, ${now}::timestamptz, ${now}::timestamptz)
    ON CONFLICT (source_comment_id) DO UPDATE SET reply_comment_id = excluded.reply_comment_id, handled_at = excluded.handled_at
    WHERE moltbook_handled_comment_events.handled_at IS NULL`;
}

/** An intent without a visible reply past the grace is given up (never resent). Returns whether it was. */
async function resolveStaleIntent(deps: EngagementDeps, postId: string, commentId: string, row: HandledRow): Promise<boolean> {
  const now = deps.clock.now();
  if (now.getTime() - row.intent_at.getTime() < INTENT_GRACE_MS) return false;
  const gaveUp = await deps.prisma.$executeRaw`
    UPDATE moltbook_handled_comment_events SET action = 'skipped', skip_reason = 'outcome unknown; no reply found in the thread', handled_at = ${now}::timestamptz
    WHERE source_comment_id = ${commentId} AND handled_at IS NULL`;
  if (gaveUp) {
    await writeEvents(deps.prisma, [
      { kind: 'moltbook:reply_unconfirmed', source: 'moltbook', skill: 'moltbook_engagement', tags: ['warning'], payload: { post_id: postId, comment_id: commentId }, createdAt: now },
    ]);
  }
  return gaveUp > 0;
}

import { writeEvents } from '@opsloop/ops';
import { MoltbookApiError, MoltbookRateLimitError } from '../errors.ts';
import { acquireWrite, recordWriteAccepted, writesPaused } from '../safety/breaker.ts';
import { pace, recordRateLimited, recordWrite } from '../safety/pacing.ts';
import { answerChallenge, sweepChallenges } from '../verification/answerChallenge.ts';
import type { EngagementDeps } from './context.ts';
import { openBreakerFor } from './replyMonitor.ts';
import { readEngagementState, updateEngagementState, watchPost } from './state.ts';

export type SecondPostAction = 'posted' | 'verification_pending' | 'rate_limited' | 'waiting' | 'already_posted' | 'adopted' | 'not_configured' | 'paused';

/**
 * `moltbook.second_post`: posts the second post once, when its earliest time has come.
 * A 429 stores the earliest next time from the retry hint and ends the step
 * successfully (`rate_limited`), so the post goes out on the first cycle after the limit
 * lifts. A previous attempt whose outcome is unknown (timeout, dropped connection) is
 * resolved by looking for the post on our profile before posting again. The post's
 * verification challenge is answered at once (`posted` once verified); while the breaker
 * is open nothing is posted (`paused`); the account's post cooldown is respected.
 */
export async function runSecondPost(deps: EngagementDeps): Promise<{ action: SecondPostAction; postId?: string; nextEarliestAt?: Date | null }> {
  const now = deps.clock.now();
  const state = await readEngagementState(deps.prisma);
  const { moltbook_engagement: policy } = await deps.policy.read(deps.prisma, ['moltbook_engagement']);
  const record = async (result: { action: SecondPostAction; postId?: string; nextEarliestAt?: Date | null; retryAfterMs?: number }) => {
    deps.logger.info({ 'autopost_second.action': result.action, rate_limited: result.action === 'rate_limited' }, 'moltbook second post');
    await writeEvents(deps.prisma, [
      {
        kind: 'moltbook:second_post',
        source: 'moltbook',
        skill: 'moltbook_engagement',
        payload: { action: result.action, post_id: result.postId ?? null, next_earliest_at: result.nextEarliestAt ?? null, rate_limited: result.action === 'rate_limited' },
        createdAt: now,
      },
    ]);
    return result;
  };

  if (state.secondPostStatus !== 'pending') return record({ action: 'already_posted', postId: state.secondPostId ?? undefined });
  if (!policy.second_post) return record({ action: 'not_configured' });
  if (state.secondPostNextEarliestAt && state.secondPostNextEarliestAt > now) {
    return record({ action: 'waiting', nextEarliestAt: state.secondPostNextEarliestAt });
  }
  await sweepChallenges(deps);
  if ((await writesPaused(deps, deps.accountId)).paused) return record({ action: 'paused' });
  const paced = await pace(deps.prisma, deps.accountId, 'post', now);
  if (!paced.go) return record({ action: 'waiting', nextEarliestAt: paced.until });

  try {
    return await post();
  } catch (error) {
    if (await openBreakerFor(deps, error)) return record({ action: 'paused' });
    throw error;
  }

  async function post() {
  if (state.secondPostLastAttemptAt) {
    const me = await deps.client.getMe();
    const profile = await deps.client.getProfile(me.name);
    const landed = profile.recent_posts.find((p) => p.title === policy.second_post!.title);
    if (landed) {
      await updateEngagementState(deps.prisma, { secondPostStatus: 'posted', secondPostId: landed.id }, now);
      await watchPost(deps.prisma, landed.id, now);
      return record({ action: 'adopted', postId: landed.id });
    }
  }

  const permit = await acquireWrite(deps, deps.accountId);
  if (!permit.allowed) return record({ action: 'paused' });
  // Written before the POST: if we die mid-request, the next run checks the profile.
  await updateEngagementState(deps.prisma, { secondPostLastAttemptAt: now }, now);
  try {
    const created = await deps.client.createPost(policy.second_post!);
    const receivedAt = deps.clock.now();
    await recordWrite(deps.prisma, deps.accountId, 'post', receivedAt, created.rateLimit);
    let verified = !created.verificationPending;
    if (created.verification) {
      verified = (await answerChallenge(deps, { challenge: created.verification, entityType: 'post', entityId: created.post.id, receivedAt })).outcome === 'verified';
    } else await recordWriteAccepted(deps, deps.accountId, permit.probe);
    const status = verified ? 'posted' : 'verification_pending';
    await updateEngagementState(deps.prisma, { secondPostStatus: status, secondPostId: created.post.id, secondPostNextEarliestAt: null }, now);
    await watchPost(deps.prisma, created.post.id, now);
    return record({ action: status, postId: created.post.id });
  } catch (error) {
    if (error instanceof MoltbookRateLimitError) {
      const next = await recordRateLimited(deps.prisma, deps.accountId, 'post', now, error);
      // A 429 is a definite "not posted": clear the attempt so no profile check is needed.
      await updateEngagementState(deps.prisma, { secondPostNextEarliestAt: next, secondPostLastAttemptAt: null }, now);
      return record({ action: 'rate_limited', nextEarliestAt: next });
    }
    if (error instanceof MoltbookApiError && error.status >= 400 && error.status < 500 && error.status !== 401 && error.status !== 403) {
      // A definite refusal: nothing was posted.
      await updateEngagementState(deps.prisma, { secondPostLastAttemptAt: null }, now);
    }
    throw error;
  }
  }
}

import type { DbClient } from '@opsloop/db';

export interface EngagementState {
  secondPostStatus: 'pending' | 'posted' | 'verification_pending' | 'disabled';
  secondPostId: string | null;
  secondPostLastAttemptAt: Date | null;
  secondPostNextEarliestAt: Date | null;
  watchedPostIds: string[];
}

/** The single engagement state row (seeded; recreated if an operator deleted it). */
export async function readEngagementState(db: DbClient): Promise<EngagementState> {
  await db.$executeRaw`INSERT INTO moltbook_engagement_state (id) VALUES (1) ON CONFLICT (id) DO NOTHING`;
  const row = await db.moltbookEngagementState.findUniqueOrThrow({ where: { id: 1 } });
  return {
    secondPostStatus: row.secondPostStatus as EngagementState['secondPostStatus'],
    secondPostId: row.secondPostId,
    secondPostLastAttemptAt: row.secondPostLastAttemptAt,
    secondPostNextEarliestAt: row.secondPostNextEarliestAt,
    watchedPostIds: row.watchedPostIds,
  };
}

export async function updateEngagementState(db: DbClient, patch: Partial<EngagementState>, now: Date): Promise<void> {
  await db.moltbookEngagementState.update({ where: { id: 1 }, data: { ...patch, updatedAt: now } });
}

/** Adds a post to the watch list (idempotent, concurrency-safe: one statement). */
export async function watchPost(db: DbClient, postId: string, now: Date): Promise<void> {
  await db.$executeRaw`
    UPDATE moltbook_engagement_state
    SET watched_post_ids = CASE WHEN ${postId} = ANY(watched_post_ids) THEN watched_post_ids ELSE array_append(watched_post_ids, ${postId}) END,
        updated_at = ${now}::timestamptz
    WHERE id = 1`;
}

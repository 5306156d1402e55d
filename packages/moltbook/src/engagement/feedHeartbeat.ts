import { writeEvents, type NewEvent } from '@opsloop/ops';
import type { EngagementDeps } from './context.ts';

/**
 * `moltbook.heartbeat`: reads /home and the feed and writes what it saw as events, so
 * trigger rules and the reaction matrix can act on it. A post of ours with at least
 * `high_engagement_notifications` new notifications also gets an `engagement:high` event.
 */
export async function runFeedHeartbeat(deps: EngagementDeps, params: { feed_limit?: number }) {
  const now = deps.clock.now();
  const { moltbook_engagement: policy } = await deps.policy.read(deps.prisma, ['moltbook_engagement']);
  const home = await deps.client.getHome();
  const feed = await deps.client.getFeed({ sort: 'new', limit: params.feed_limit ?? 15 });
  const active = home.activity_on_your_posts.filter((a) => a.new_notification_count > 0);
  const summary = {
    account: home.your_account.name,
    karma: home.your_account.karma,
    unread_notifications: home.your_account.unread_notification_count,
    activity_on_our_posts: active.map((a) => ({ post_id: a.post_id, title: a.post_title, new_notifications: a.new_notification_count, latest_commenters: a.latest_commenters })),
    feed: feed.posts.map((p) => ({ id: p.id, title: p.title, author: p.author?.name ?? null, score: p.score, comments: p.comment_count })),
  };
  const events: NewEvent[] = [{ kind: 'moltbook:heartbeat', source: 'moltbook', skill: 'moltbook_engagement', payload: summary, createdAt: now }];
  for (const a of active) {
    if (a.new_notification_count >= policy.high_engagement_notifications) {
      events.push({
        kind: 'engagement:high',
        source: 'moltbook',
        skill: 'moltbook_engagement',
        tags: ['moltbook'],
        payload: { post_id: a.post_id, title: a.post_title, new_notifications: a.new_notification_count, commenters: a.latest_commenters, preview: a.preview },
        createdAt: now,
      });
    }
  }
  await writeEvents(deps.prisma, events);
  return { unread_notifications: summary.unread_notifications, active_posts: active.length, feed_posts: feed.posts.length, engagement_high: events.length - 1 };
}

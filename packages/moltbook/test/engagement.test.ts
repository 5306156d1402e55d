import fs from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { llmReplyWriter, runFeedHeartbeat, runReplyMonitor, runScout, runSecondPost, readEngagementState, INTENT_GRACE_MS } from '@opsloop/moltbook';
import { DEFAULT_FAKE_LIMITS } from '@opsloop/moltbook/testing';
import { createLlmClient } from '@opsloop/ops';
import { startFakeOpenAI } from '@opsloop/ops/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { engagementHarness, KEY, ME } from './engagementHarness.ts';

let db: TestDatabase;
let h: Awaited<ReturnType<typeof engagementHarness>>;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.pool.query(`TRUNCATE moltbook_handled_comment_events, ops_events, moltbook_accounts, moltbook_challenges, ops_alerts CASCADE`);
  await db.pool.query(`UPDATE moltbook_engagement_state SET second_post_status = 'pending', second_post_id = NULL, second_post_last_attempt_at = NULL, second_post_next_earliest_at = NULL, watched_post_ids = '{}'`);
  h = await engagementHarness(db);
});
afterEach(async () => {
  await h?.fake.close();
});

async function ourPost() {
  const post = h.fake.addPost({ author: ME, title: 'First post', content: 'hello' });
  await db.pool.query(`UPDATE moltbook_engagement_state SET watched_post_ids = ARRAY[$1]`, [post.id]);
  return post.id;
}

describe('moltbook.second_post', () => {
  it('rate-limited: stores the retry hint, waits it out, and posts on the first run after it', async () => {
    h.fake.setLimits({ postIntervalMs: DEFAULT_FAKE_LIMITS.postIntervalMs });
    const deps = h.deps();
    await deps.client.createPost({ submolt_name: 'general', title: 'First post', content: 'hi' }); // the first post, just now
    h.clock.advance(60_000);

    const limited = await runSecondPost(deps);
    expect(limited.action).toBe('rate_limited');
    expect(limited.nextEarliestAt!.getTime()).toBe(h.clock.now().getTime() + 29 * 60_000);

    h.clock.advance(28 * 60_000);
    const posts = h.fake.requests.filter((r) => r.method === 'POST').length;
    expect((await runSecondPost(deps)).action).toBe('waiting');
    expect(h.fake.requests.filter((r) => r.method === 'POST').length).toBe(posts); // did not even try

    h.clock.advance(61_000);
    const posted = await runSecondPost(deps);
    expect(posted.action).toBe('posted');
    const state = await readEngagementState(db.prisma);
    expect(state).toMatchObject({ secondPostStatus: 'posted', secondPostId: posted.postId, watchedPostIds: [posted.postId] });
    expect((await runSecondPost(deps)).action).toBe('already_posted');
    const events = await db.prisma.opsEvent.findMany({ where: { kind: 'moltbook:second_post' }, orderBy: { id: 'asc' } });
    expect(events.map((e) => (e.payload as { action: string }).action)).toEqual(['rate_limited', 'waiting', 'posted', 'already_posted']);
  });

  it('after an attempt whose outcome is unknown, adopts the post that landed instead of posting twice', async () => {
    const deps = h.deps();
    h.fake.failNext('POST', '/posts', { dropAfterApply: true });
    await expect(runSecondPost(deps)).rejects.toThrow();
    const again = await runSecondPost(deps);
    expect(again.action).toBe('adopted');
    const mine = h.fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/posts'));
    expect(mine).toHaveLength(1);
  });
});

describe('moltbook.reply_monitor', () => {
  it('answers each new comment exactly once over many runs, oldest first, skipping our own', async () => {
    const postId = await ourPost();
    const deps = h.deps();
    const a = h.fake.addComment(postId, { author: 'alice', content: 'Nice post!' });
    h.clock.advance(1000);
    const b = h.fake.addComment(postId, { author: 'bob', content: 'What about rate limits?' });
    h.fake.addComment(postId, { author: ME, content: 'A note from me' });

    const first = await runReplyMonitor(deps, {});
    expect(first.replies_sent).toBe(1);
    expect(h.fake.repliesTo(a.id)).toHaveLength(1); // oldest unanswered first
    expect(h.fake.repliesTo(b.id)).toHaveLength(0);

    for (let i = 0; i < 5; i++) {
      h.clock.advance(10 * 60_000);
      if (i === 1) h.fake.addComment(postId, { author: 'carol', content: 'Replying to Alice', parentId: a.id });
      await runReplyMonitor(deps, {});
    }
    for (const c of h.fake.commentsOn(postId).filter((c) => c.author !== ME)) {
      expect(h.fake.repliesTo(c.id).filter((r) => r.author === ME)).toHaveLength(1);
    }
    const contents = h.fake.commentsOn(postId).filter((c) => c.author === ME && c.parent_id).map((c) => c.content);
    expect(new Set(contents).size).toBe(contents.length); // never identical replies
    const actions = await db.pool.query(`SELECT action FROM moltbook_handled_comment_events ORDER BY intent_at`);
    expect(actions.rows.map((r) => r.action).sort()).toEqual(['replied', 'replied', 'replied_to_reply']);
  });

  it('once the process starts shutting down it sends no new reply', async () => {
    const postId = await ourPost();
    for (const author of ['alice', 'bob', 'carol']) {
      h.fake.addComment(postId, { author, content: `hello from ${author}` });
      h.clock.advance(1000);
    }
    const stopping = new AbortController();
    const deps = h.deps();
    // The first reply goes out; the shutdown begins while the second is being written,
    // before it is sent.
    let written = 0;
    deps.writeReply = async ({ comment }) => {
      if (++written === 2) stopping.abort();
      return `Thanks, ${comment.author?.name}!`;
    };
    const result = await runReplyMonitor(deps, { max_replies: 5 }, { signal: stopping.signal });
    expect(result.replies_sent).toBe(1);
    expect(h.fake.commentsOn(postId).filter((c) => c.author === ME && c.parent_id)).toHaveLength(1);
  });

  it('counts duplicates it finds in the thread (for the daily summary) and never adds to them', async () => {
    const postId = await ourPost();
    const c = h.fake.addComment(postId, { author: 'hal', content: 'hi' });
    h.fake.addComment(postId, { author: ME, content: 'reply one', parentId: c.id });
    h.fake.addComment(postId, { author: ME, content: 'reply two', parentId: c.id });
    expect(await runReplyMonitor(h.deps(), {})).toMatchObject({ duplicates_seen: 1, replies_sent: 0, recorded_existing: 1 });
    expect(h.fake.repliesTo(c.id)).toHaveLength(2);
  });

  it('two monitors running at once never reply twice to the same comment', async () => {
    const postId = await ourPost();
    for (let i = 0; i < 6; i++) h.fake.addComment(postId, { author: `agent${i}`, content: `comment ${i}` });
    const results = await Promise.all([runReplyMonitor(h.deps('w1'), { max_replies: 6 }), runReplyMonitor(h.deps('w2'), { max_replies: 6 })]);
    expect(results[0]!.replies_sent + results[1]!.replies_sent).toBe(6);
    for (const c of h.fake.commentsOn(postId).filter((c) => c.author !== ME && !c.parent_id)) {
      expect(h.fake.repliesTo(c.id)).toHaveLength(1);
    }
  });

  it('a reply that landed but whose response was lost is found in the thread a minute later in the same run, not sent again', async () => {
    const postId = await ourPost();
    const c = h.fake.addComment(postId, { author: 'dave', content: 'hello?' });
    h.fake.failNext('POST', '/posts/*/comments', { dropAfterApply: true });
    const before = h.clock.now().getTime();
    const first = await runReplyMonitor(h.deps(), {});
    expect(first).toMatchObject({ replies_sent: 0, unconfirmed: 0, recorded_existing: 1 });
    expect(h.clock.now().getTime() - before).toBe(60_000); // one re-check, a minute later
    expect(h.fake.repliesTo(c.id)).toHaveLength(1);

    const second = await runReplyMonitor(h.deps(), {});
    expect(second).toMatchObject({ replies_sent: 0, recorded_existing: 0 });
    expect(h.fake.repliesTo(c.id)).toHaveLength(1);
    const row = await db.pool.query(`SELECT reply_comment_id, handled_at FROM moltbook_handled_comment_events WHERE source_comment_id = $1`, [c.id]);
    expect(row.rows[0].reply_comment_id).toBe(h.fake.repliesTo(c.id)[0]!.id);
  });

  it('an unknown outcome with no reply in the thread is never resent; after the grace it is given up and flagged', async () => {
    const postId = await ourPost();
    const c = h.fake.addComment(postId, { author: 'erin', content: 'hi' });
    await db.pool.query(
      `INSERT INTO moltbook_handled_comment_events (source_comment_id, post_id, action, claimed_by, intent_at) VALUES ($1, $2, 'replied', 'crashed', $3)`,
      [c.id, postId, h.clock.now()],
    );
    expect(await runReplyMonitor(h.deps(), {})).toMatchObject({ replies_sent: 0, unconfirmed: 1 });
    h.clock.advance(INTENT_GRACE_MS + 1);
    expect(await runReplyMonitor(h.deps(), {})).toMatchObject({ replies_sent: 0, given_up: 1 });
    expect(h.fake.repliesTo(c.id)).toHaveLength(0);
    expect(await db.prisma.opsEvent.count({ where: { kind: 'moltbook:reply_unconfirmed' } })).toBe(1);
  });

  it('a 429 releases the intent, stores the next allowed time, and the comment is answered once it has passed', async () => {
    const postId = await ourPost();
    const c = h.fake.addComment(postId, { author: 'gus', content: 'two' });
    h.fake.failNext('POST', '/posts/*/comments', { status: 429, body: { success: false, error: 'Slow down', retry_after_seconds: 300, daily_remaining: 10 } });
    const limited = await runReplyMonitor(h.deps(), {});
    expect(limited).toMatchObject({ rate_limited: true, replies_sent: 0, retry_after_ms: 300_000 });
    const posts = () => h.fake.requests.filter((r) => r.method === 'POST').length;
    const sent = posts();

    h.clock.advance(200_000); // still inside the server's 5 minutes: not even tried
    expect(await runReplyMonitor(h.deps(), { })).toMatchObject({ replies_sent: 0, paced_until: expect.any(Date) });
    expect(posts()).toBe(sent);

    h.clock.advance(100_000);
    expect((await runReplyMonitor(h.deps(), {})).replies_sent).toBe(1);
    expect(h.fake.repliesTo(c.id)).toHaveLength(1);
  });
});

describe('LLM-written replies', () => {
  it('uses the persona prompt and records usage; past the budget it falls back to the template', async () => {
    const openai = await startFakeOpenAI({ apiKey: 'sk-reply-test-key-123456' });
    try {
      const postId = await ourPost();
      const c = h.fake.addComment(postId, { author: 'ivy', content: 'How do you handle retries?' });
      const base = h.deps();
      const llm = createLlmClient({ apiKey: 'sk-reply-test-key-123456', baseUrl: `${openai.url}/v1`, model: 'gpt-test', logger: base.logger, sleep: async () => {} })!;
      openai.enqueue({ content: 'With backoff and a lease, Ivy.' });
      const writeReply = llmReplyWriter({ ...base, llm, timeZone: 'Asia/Tokyo' });
      await runReplyMonitor({ ...base, writeReply }, {});
      expect(h.fake.repliesTo(c.id)[0]!.content).toBe('With backoff and a lease, Ivy.');
      expect(openai.requests[0]!.messages![0]!.content).toMatch(/friendly, concise AI agent/);
      expect(await db.prisma.opsLlmUsage.count({ where: { purpose: 'moltbook_reply' } })).toBe(1);

      await db.pool.query(`UPDATE ops_policy SET value = '{"daily_tokens": 0}' WHERE key = 'llm_budget'`);
      const d = h.fake.addComment(postId, { author: 'jo', content: 'And timeouts?' });
      await runReplyMonitor({ ...base, writeReply }, {});
      expect(h.fake.repliesTo(d.id)[0]!.content).toMatch(/^Thanks @jo!/);
      expect(openai.completionCount()).toBe(1);
    } finally {
      await db.pool.query(`UPDATE ops_policy SET value = '{"daily_tokens": 200000}' WHERE key = 'llm_budget'`);
      await openai.close();
    }
  });
});

describe('moltbook.heartbeat and moltbook.scout', () => {
  it('the feed heartbeat writes what it saw, and engagement:high for busy posts', async () => {
    const postId = await ourPost();
    for (let i = 0; i < 6; i++) h.fake.addComment(postId, { author: `fan${i}`, content: `wow ${i}` });
    h.fake.addPost({ author: 'someone', title: 'Other news', content: 'x' });
    const result = await runFeedHeartbeat(h.deps(), { feed_limit: 15 });
    expect(result.feed_posts).toBeGreaterThanOrEqual(1);
    const seen = await db.prisma.opsEvent.findFirstOrThrow({ where: { kind: 'moltbook:heartbeat' } });
    expect(JSON.stringify(seen.payload)).not.toContain(KEY);
    expect(result.engagement_high).toBe(await db.prisma.opsEvent.count({ where: { kind: 'engagement:high' } }));
  });

  it('the scout groups by author over the threshold, ranks, fetches profiles and writes JSON and CSV', async () => {
    h.fake.addAgent({ name: 'deep-thinker', karma: 42 });
    h.fake.addAgent({ name: 'one-hit', karma: 1 });
    h.fake.seedSearchResults('agents in production', [
      { author: 'deep-thinker', title: 'Ops lessons', content: 'a', similarity: 0.8 },
      { author: 'deep-thinker', title: 'More ops', content: 'b', similarity: 0.6 },
      { author: 'one-hit', title: 'Once', content: 'c', similarity: 0.9 },
      { author: 'one-hit', title: 'Weak', content: 'd', similarity: 0.2 },
    ]);
    const summary = await runScout(h.deps(), { queries: ['agents in production'], csv: true, top: 20 });
    expect(summary.top_authors).toEqual(['deep-thinker']);
    const report = JSON.parse(await fs.readFile(summary.json, 'utf8'));
    expect(report.authors[0]).toMatchObject({ name: 'deep-thinker', matches: 2, karma: 42 });
    expect(await fs.readFile(summary.csv!, 'utf8')).toMatch(/^rank,author,matches/);
    expect(await db.prisma.opsEvent.count({ where: { kind: 'moltbook:scout_report' } })).toBe(1);
  });
});

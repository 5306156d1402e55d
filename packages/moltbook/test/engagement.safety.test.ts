import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { accountIdFor, moltbookOverview, resetBreaker, runReplyMonitor, runSecondPost } from '@opsloop/moltbook';
import { DEFAULT_FAKE_LIMITS } from '@opsloop/moltbook/testing';
import { createLlmClient } from '@opsloop/ops';
import { startFakeOpenAI } from '@opsloop/ops/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { engagementHarness, KEY, ME } from './engagementHarness.ts';

let db: TestDatabase;
let h: Awaited<ReturnType<typeof engagementHarness>>;
const account = accountIdFor(KEY);

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

async function watched(n = 1): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => h.fake.addPost({ author: ME, title: `Post ${i}`, content: 'hello' }).id);
  await db.pool.query(`UPDATE moltbook_engagement_state SET watched_post_ids = $1`, [ids]);
  return ids;
}

const posts = () => h.fake.requests.filter((r) => r.method === 'POST' && r.path !== '/verify');
const verifies = () => h.fake.requests.filter((r) => r.method === 'POST' && r.path === '/verify');
const overview = () => moltbookOverview({ prisma: db.prisma, clock: h.clock, timeZone: 'Asia/Tokyo' }, account);

describe('verification challenges', () => {
  it('every reply and the second post are verified: one answer per code, within the deadline', async () => {
    h.fake.setVerification(true);
    await db.pool.query(`UPDATE ops_policy SET value = value || '{"second_post": {"submolt_name": "general", "title": "Second", "content": "More"}}' WHERE key = 'moltbook_engagement'`);
    const [postId] = await watched();
    for (let i = 0; i < 6; i++) {
      h.fake.addComment(postId!, { author: `agent${i}`, content: `comment ${i}` });
      h.clock.advance(1000);
    }
    expect(await runSecondPost(h.deps())).toMatchObject({ action: 'posted' });
    for (let cycle = 0; cycle < 3; cycle++) {
      await runReplyMonitor(h.deps(), { max_replies: 3 });
      h.clock.advance(10 * 60_000);
    }

    const challenges = h.fake.challenges();
    expect(challenges).toHaveLength(7); // the post and six replies
    for (const c of challenges) {
      expect(c.outcome).toBe('verified');
      expect(c.attempts).toHaveLength(1);
      expect(c.attempts[0]!.at.getTime() - c.issuedAt.getTime()).toBeLessThanOrEqual(30_000);
    }
    const rows = await db.prisma.moltbookChallenge.findMany();
    expect(rows.map((r) => r.outcome)).toEqual(Array(7).fill('verified'));
    expect(rows.every((r) => r.method === 'rules' && r.latencyMs !== null && r.latencyMs <= 30_000)).toBe(true);
    // Verified replies are visible to others.
    expect(h.fake.commentsOn(postId!).filter((c) => c.author === ME).every((c) => c.verification_status === 'verified')).toBe(true);
  });

  it('always wrong: at most 2 failures, then no write until the pause ends, one alert; then one probe and normal operation', async () => {
    h.fake.setVerification(true);
    h.fake.setVerificationOptions({ mode: 'always_wrong', suspendAfterFailures: null });
    const [postId] = await watched();
    for (let i = 0; i < 6; i++) {
      h.fake.addComment(postId!, { author: `agent${i}`, content: `comment ${i}` });
      h.clock.advance(1000);
    }
    const first = await runReplyMonitor(h.deps(), { max_replies: 6 });
    expect(first).toMatchObject({ replies_sent: 2, challenges_failed: 2, action: 'paused' });
    expect(posts()).toHaveLength(2);
    expect(verifies()).toHaveLength(2);
    let view = await overview();
    expect(view.breaker).toMatchObject({ state: 'open', reason: 'verification_failures' });
    expect(view.breaker!.pausedUntil!.getTime()).toBe(h.clock.now().getTime() + 60 * 60_000);

    for (let i = 0; i < 5; i++) {
      h.clock.advance(10 * 60_000);
      expect(await runReplyMonitor(h.deps(), { max_replies: 6 })).toMatchObject({ action: 'paused', replies_sent: 0 });
    }
    expect(posts()).toHaveLength(2); // nothing written while open
    expect(await db.prisma.opsAlert.count({ where: { kind: 'moltbook_breaker' } })).toBe(1);
    expect(await db.prisma.opsEvent.count({ where: { kind: 'moltbook:breaker_opened' } })).toBe(1);

    // Past the pause, still failing: exactly one probe, then open again (no second alert within the cooldown).
    h.clock.advance(10 * 60_000 + 1);
    expect(await runReplyMonitor(h.deps(), { max_replies: 6 })).toMatchObject({ replies_sent: 1, action: 'paused' });
    expect(posts()).toHaveLength(3);
    expect(await db.prisma.opsAlert.count({ where: { kind: 'moltbook_breaker' } })).toBe(1);

    // The fake is fixed; after the next pause, the probe verifies and normal operation resumes in the same run.
    h.fake.setVerificationOptions({ mode: 'honest' });
    h.clock.advance(60 * 60_000 + 1);
    const recovered = await runReplyMonitor(h.deps(), { max_replies: 6 });
    expect(recovered).toMatchObject({ action: 'ran', replies_sent: 3, challenges_verified: 3 });
    view = await overview();
    expect(view.breaker).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    expect(h.fake.challenges().every((c) => c.attempts.length === 1)).toBe(true);
    expect(view.challenges).toHaveLength(6);
  });

  it('a suspension stops every write until its stated end; a 403 suspension without an end pauses for the policy default', async () => {
    const [postId] = await watched();
    h.fake.addComment(postId!, { author: 'ann', content: 'hi' });
    h.fake.suspend(10);
    expect(await runReplyMonitor(h.deps(), {})).toMatchObject({ action: 'paused', replies_sent: 0 });
    const view = await overview();
    expect(view.breaker).toMatchObject({ state: 'open', reason: 'suspended' });
    expect(view.breaker!.pausedUntil!.getTime()).toBe(h.clock.now().getTime() + 10 * 3_600_000);
    const tried = posts().length;
    h.clock.advance(9 * 3_600_000);
    expect(await runReplyMonitor(h.deps(), {})).toMatchObject({ action: 'paused' });
    expect(posts()).toHaveLength(tried);
    h.clock.advance(3_600_000 + 1);
    expect(await runReplyMonitor(h.deps(), {})).toMatchObject({ action: 'ran', replies_sent: 1 });
    expect((await overview()).breaker).toMatchObject({ state: 'closed' });

    h.fake.addComment(postId!, { author: 'bo', content: 'again' });
    h.fake.suspend(48, 403);
    h.clock.advance(60_000);
    expect(await runReplyMonitor(h.deps(), {})).toMatchObject({ action: 'paused' });
    const after403 = (await overview()).breaker!;
    expect(after403).toMatchObject({ state: 'open', reason: 'suspended' });
    expect(after403.pausedUntil!.getTime()).toBe(h.clock.now().getTime() + 60 * 60_000);
  });

  it('an operator reset closes the breaker at once', async () => {
    const [postId] = await watched();
    h.fake.addComment(postId!, { author: 'cy', content: 'hi' });
    h.fake.failNext('POST', '/posts/*/comments', { status: 401, body: { success: false, error: 'Invalid API key' } });
    expect(await runReplyMonitor(h.deps(), {})).toMatchObject({ action: 'paused' });
    expect((await overview()).breaker).toMatchObject({ state: 'open', reason: 'unauthorized' });
    await resetBreaker({ prisma: db.prisma, clock: h.clock, logger: h.deps().logger, policy: h.deps().policy }, account);
    expect(await runReplyMonitor(h.deps(), {})).toMatchObject({ action: 'ran', replies_sent: 1 });
  });
});

describe('never answering what may be ours', () => {
  it('with authors listed as null for one cycle: no reply to our own comments; the skipped comments are answered once authors are back', async () => {
    const [postId] = await watched();
    const a = h.fake.addComment(postId!, { author: 'alice', content: 'first' });
    await runReplyMonitor(h.deps(), {}); // our reply to alice, recorded
    h.clock.advance(60_000);
    const ours = h.fake.repliesTo(a.id)[0]!;
    const b = h.fake.addComment(postId!, { author: 'bob', content: 'second' });
    const c = h.fake.addComment(postId!, { author: 'carol', content: 'answering your reply', parentId: ours.id });

    h.fake.setNullAuthors(true);
    const outage = await runReplyMonitor(h.deps(), { max_replies: 5 });
    expect(outage).toMatchObject({ replies_sent: 0, author_hidden: 2 });
    h.fake.setNullAuthors(false);
    h.clock.advance(10 * 60_000);
    const back = await runReplyMonitor(h.deps(), { max_replies: 5 });
    expect(back.replies_sent).toBe(2);

    const mine = h.fake.commentsOn(postId!).filter((x) => x.author === ME);
    const myIds = new Set(mine.map((x) => x.id));
    expect(mine.filter((x) => x.parent_id && myIds.has(x.parent_id))).toEqual([]); // never a reply to ourselves
    for (const x of [a, b, c]) expect(h.fake.repliesTo(x.id).filter((r) => r.author === ME)).toHaveLength(1);
  });
});

describe('definite refusals', () => {
  it('a reply refused with a 4xx other than 429 is skipped with its reason; the other comments are still answered in the same run', async () => {
    const [postId] = await watched();
    const refused = h.fake.addComment(postId!, { author: 'dee', content: 'oldest' });
    h.clock.advance(1000);
    const others = [h.fake.addComment(postId!, { author: 'eve', content: 'newer' }), h.fake.addComment(postId!, { author: 'fay', content: 'newest' })];
    h.fake.failNext('POST', `/posts/${postId}/comments`, { status: 404, body: { success: false, error: 'Comment not found', hint: 'It may have been deleted' } });
    const run = await runReplyMonitor(h.deps(), { max_replies: 3 });
    expect(run).toMatchObject({ skipped: 1, replies_sent: 2, action: 'ran' });
    for (const o of others) expect(h.fake.repliesTo(o.id)).toHaveLength(1);
    const row = await db.prisma.moltbookHandledCommentEvent.findUniqueOrThrow({ where: { sourceCommentId: refused.id } });
    expect(row).toMatchObject({ action: 'skipped', skipReason: '404: Comment not found' });
    expect(await db.prisma.opsEvent.count({ where: { kind: 'moltbook:reply_skipped' } })).toBe(1);
    expect((await overview()).today).toMatchObject({ repliesSent: 2, skipped: 1 });
    // Not retried later.
    h.clock.advance(10 * 60_000);
    expect(await runReplyMonitor(h.deps(), { max_replies: 3 })).toMatchObject({ replies_sent: 0, skipped: 0 });
  });
});

describe('pacing', () => {
  it('1 comment / 20 s: zero 429s over steady cycles, and three watched posts all answered within two cycles', async () => {
    h.fake.setLimits({ commentIntervalMs: DEFAULT_FAKE_LIMITS.commentIntervalMs, commentsPerDay: 50, writesPerMinute: 30 });
    const ids = await watched(3);
    // The first post is busy: its comments are the oldest, and it keeps getting more.
    for (let i = 0; i < 4; i++) h.fake.addComment(ids[0]!, { author: `busy${i}`, content: `busy ${i}` });
    h.clock.advance(1000);
    h.fake.addComment(ids[1]!, { author: 'quiet1', content: 'hello' });
    h.fake.addComment(ids[2]!, { author: 'quiet2', content: 'hello' });

    for (let cycle = 0; cycle < 2; cycle++) {
      await runReplyMonitor(h.deps(), { max_replies: 3 });
      h.clock.advance(10 * 60_000);
      h.fake.addComment(ids[0]!, { author: `late${cycle}`, content: 'more' });
    }
    for (const id of ids) expect(h.fake.commentsOn(id).some((c) => c.author === ME)).toBe(true);
    for (let cycle = 0; cycle < 4; cycle++) {
      await runReplyMonitor(h.deps(), { max_replies: 3 });
      h.clock.advance(10 * 60_000);
    }
    expect(h.fake.requests.filter((r) => r.status === 429)).toEqual([]);
    for (const id of ids) {
      for (const c of h.fake.commentsOn(id).filter((x) => x.author !== ME)) expect(h.fake.repliesTo(c.id)).toHaveLength(1);
    }
    const view = await overview();
    expect(view.rateLimits).toMatchObject({ commentIntervalSeconds: 20, commentsPerDay: 50 });
    expect(view.rateLimits!.writeRemaining).not.toBeNull(); // learnt from X-RateLimit-Remaining
  });
});

describe('shutdown', () => {
  it('after the abort signal no write starts; the in-flight reply is recorded', async () => {
    const [postId] = await watched();
    const comments = [0, 1, 2].map((i) => {
      h.clock.advance(1000);
      return h.fake.addComment(postId!, { author: `g${i}`, content: `c${i}` });
    });
    await db.pool.query(`INSERT INTO moltbook_accounts (account_id, comment_interval_seconds) VALUES ($1, 0)`, [account]);
    h.fake.failNext('POST', '/posts/*/comments', { delayMs: 300 });
    const abort = new AbortController();
    const run = runReplyMonitor(h.deps(), { max_replies: 3 }, { signal: abort.signal });
    await expect.poll(() => posts().length, { timeout: 5000, interval: 5 }).toBe(1);
    abort.abort(new Error('SIGTERM'));
    const result = await run;
    expect(result).toMatchObject({ aborted: true, replies_sent: 1 });
    expect(posts()).toHaveLength(1);
    expect(h.fake.repliesTo(comments[0]!.id)).toHaveLength(1);
    const next = await runReplyMonitor(h.deps(), { max_replies: 3 });
    expect(next.replies_sent).toBe(2);
    for (const c of comments) expect(h.fake.repliesTo(c.id)).toHaveLength(1);
  });
});

describe('the LLM fallback for doubtful challenges', () => {
  const OPENAI_KEY = 'sk-verify-test-key-123456';
  it('asks the LLM only when the rules are not sure, within the token budget, and falls back to the rules answer', async () => {
    const openai = await startFakeOpenAI({ apiKey: OPENAI_KEY });
    try {
      h.fake.setVerification(true);
      const [postId] = await watched();
      const base = h.deps();
      const llm = createLlmClient({ apiKey: OPENAI_KEY, baseUrl: `${openai.url}/v1`, model: 'gpt-test', logger: base.logger, sleep: async () => {} })!;
      const deps = { ...base, llm, timeZone: 'Asia/Tokyo' };
      await db.pool.query(`INSERT INTO moltbook_accounts (account_id, comment_interval_seconds) VALUES ($1, 0)`, [account]);

      // Confident rules: no LLM call.
      h.fake.addComment(postId!, { author: 'a1', content: 'one' });
      await runReplyMonitor(deps, {});
      expect(openai.completionCount()).toBe(0);

      // "22" may be doubled noise for "2": the rules are not sure, the LLM decides.
      h.fake.scriptChallenge({ text: 'A lObStEr HaS 22 ClAwS aNd GaInS fIvE', answer: '7.00' });
      openai.enqueue({ content: '7.00' });
      h.clock.advance(1000);
      h.fake.addComment(postId!, { author: 'a2', content: 'two' });
      await runReplyMonitor(deps, {});
      expect(openai.completionCount()).toBe(1);
      expect(openai.requests[0]!.messages![0]!.content).toMatch(/Answer with the resulting number only/);
      expect(await db.prisma.moltbookChallenge.findFirstOrThrow({ where: { method: 'llm' } })).toMatchObject({ answer: '7.00', outcome: 'verified' });
      expect(await db.prisma.opsLlmUsage.count({ where: { purpose: 'moltbook_verification' } })).toBe(1);

      // An answer that is not just a number is not used: the rules' answer goes instead.
      h.fake.scriptChallenge({ text: 'A lObStEr HaS 33 ClAwS aNd GaInS fIvE', answer: '38.00' });
      openai.enqueue({ content: 'I think it is 38' });
      h.clock.advance(1000);
      h.fake.addComment(postId!, { author: 'a3', content: 'three' });
      await runReplyMonitor(deps, {});
      expect(openai.completionCount()).toBe(2);
      expect(h.fake.challenges().at(-1)).toMatchObject({ outcome: 'verified', attempts: [{ answer: '38.00' }] });

      // Past the daily budget: no call, the rules' answer is submitted.
      await db.pool.query(`UPDATE ops_policy SET value = '{"daily_tokens": 0}' WHERE key = 'llm_budget'`);
      h.fake.scriptChallenge({ text: 'A lObStEr HaS 44 ClAwS aNd LoSeS fIvE', answer: '39.00' });
      h.clock.advance(1000);
      h.fake.addComment(postId!, { author: 'a4', content: 'four' });
      await runReplyMonitor(deps, {});
      expect(openai.completionCount()).toBe(2);
      expect(h.fake.challenges().at(-1)).toMatchObject({ outcome: 'verified', attempts: [{ answer: '39.00' }] });
    } finally {
      await db.pool.query(`UPDATE ops_policy SET value = '{"daily_tokens": 200000}' WHERE key = 'llm_budget'`);
      await openai.close();
    }
  });
});

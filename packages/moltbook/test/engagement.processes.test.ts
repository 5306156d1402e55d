import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '@opsloop/core';
import { startFakeMoltbook, NO_FAKE_LIMITS, type FakeMoltbook } from '@opsloop/moltbook/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { KEY, ME, engagementDeps } from './engagementHarness.ts';
import { accountIdFor, runReplyMonitor } from '@opsloop/moltbook';

let db: TestDatabase;
let fake: FakeMoltbook;
beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startFakeMoltbook({ apiKey: KEY, agentName: ME, clock: systemClock, limits: NO_FAKE_LIMITS });
  // This fake has no comment cooldown, so the account's stored limit is lifted too (real time here).
  await db.pool.query(
    `INSERT INTO moltbook_accounts (account_id, comment_interval_seconds) VALUES ($1, 0) ON CONFLICT (account_id) DO UPDATE SET comment_interval_seconds = 0`,
    [accountIdFor(KEY)],
  );
});
afterAll(async () => {
  await fake?.close();
  await db?.drop();
});

/** A reply-monitor run in its own process; it waits at the start line until go(). */
async function cycle(workerId: string, maxReplies: number) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.resolve('packages/moltbook/test/fixtures/replyCycle.ts'), db.url, fake.baseUrl, KEY, workerId, String(maxReplies)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let out = '';
  const done = new Promise<string>((resolve) => child.once('exit', () => resolve(out)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`reply cycle exited early (${code})`)));
  });
  return { child, done, go: () => child.stdin!.end('go\n') };
}

async function watchedPost() {
  const post = fake.addPost({ author: ME, title: `post ${Date.now()}`, content: 'x' });
  await db.pool.query(`UPDATE moltbook_engagement_state SET watched_post_ids = ARRAY[$1]`, [post.id]);
  return post.id;
}

describe('reply monitor across processes', () => {
  it('two engagement cycles in two processes at once: no duplicate reply', async () => {
    const postId = await watchedPost();
    for (let i = 0; i < 6; i++) fake.addComment(postId, { author: `agent${i}`, content: `comment number ${i}` });
    // Slow replies keep both runs inside the race for the whole thread.
    fake.failNext('POST', '/posts/*/comments', { delayMs: 150, times: 12 });
    const [a, b] = await Promise.all([cycle('proc-a', 10), cycle('proc-b', 10)]);
    a.go();
    b.go();
    await Promise.all([a.done, b.done]);
    for (const c of fake.commentsOn(postId).filter((c) => c.author !== ME)) {
      expect(fake.repliesTo(c.id)).toHaveLength(1);
    }
    // Both processes really took part: each claimed some comments.
    const claimers = await db.pool.query(`SELECT DISTINCT claimed_by FROM moltbook_handled_comment_events WHERE post_id = $1 ORDER BY 1`, [postId]);
    expect(claimers.rows.map((r: { claimed_by: string }) => r.claimed_by)).toEqual(['proc-a', 'proc-b']);
  }, 30_000);

  it('SIGKILL between sending a reply and recording it, then the cycle again: exactly one reply', async () => {
    const postId = await watchedPost();
    const comment = fake.addComment(postId, { author: 'victim', content: 'please answer once' });
    // Hold the POST in the fake so the process can be killed while it is in flight; the
    // fake then applies the write, as Moltbook does for a request the client abandoned.
    fake.failNext('POST', '/posts/*/comments', { delayMs: 500 });
    const run = await cycle('doomed', 1);
    run.go();
    await expect.poll(() => fake.requests.some((r) => r.method === 'POST' && r.path.includes(`/posts/${postId}/comments`)), { timeout: 10_000 }).toBe(true);
    run.child.kill('SIGKILL');
    await run.done;
    await expect.poll(() => fake.repliesTo(comment.id).length, { timeout: 5000 }).toBe(1);
    const intent = await db.pool.query(`SELECT handled_at FROM moltbook_handled_comment_events WHERE source_comment_id = $1`, [comment.id]);
    expect(intent.rows).toEqual([{ handled_at: null }]); // sent, never recorded

    const again = await runReplyMonitor(engagementDeps(db, fake.baseUrl, systemClock), {});
    expect(again).toMatchObject({ replies_sent: 0, recorded_existing: 1 });
    expect(fake.repliesTo(comment.id)).toHaveLength(1);
  }, 30_000);
});

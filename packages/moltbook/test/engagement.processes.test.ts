import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '@opsloop/core';
import { startFakeMoltbook, NO_FAKE_LIMITS, type FakeMoltbook } from '@opsloop/moltbook/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { KEY, ME, engagementDeps } from './engagementHarness.ts';
import { runReplyMonitor } from '@opsloop/moltbook';

let db: TestDatabase;
let fake: FakeMoltbook;
beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startFakeMoltbook({ apiKey: KEY, agentName: ME, clock: systemClock, limits: NO_FAKE_LIMITS });
});
afterAll(async () => {
  await fake?.close();
  await db?.drop();
});

function cycle(workerId: string, maxReplies: number): { child: ChildProcess; done: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('packages/moltbook/test/fixtures/replyCycle.ts'), db.url, fake.baseUrl, KEY, workerId, String(maxReplies)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  return { child, done: new Promise((resolve) => child.once('exit', () => resolve(out))) };
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
    const a = cycle('proc-a', 10);
    const b = cycle('proc-b', 10);
    await Promise.all([a.done, b.done]);
    for (const c of fake.commentsOn(postId).filter((c) => c.author !== ME)) {
      expect(fake.repliesTo(c.id)).toHaveLength(1);
    }
  }, 30_000);

  it('SIGKILL between sending a reply and recording it, then the cycle again: exactly one reply', async () => {
    const postId = await watchedPost();
    const comment = fake.addComment(postId, { author: 'victim', content: 'please answer once' });
    // Hold the POST in the fake so the process can be killed while it is in flight; the
    // fake then applies the write, as Moltbook does for a request the client abandoned.
    fake.failNext('POST', '/posts/*/comments', { delayMs: 500 });
    const run = cycle('doomed', 1);
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

import { describe, expect, it } from 'vitest';
import { tokenOverlap } from '../src/testing/index.ts';
import { API_KEY, requestsTo, useFakeMoltbook } from './helpers.ts';

const start = useFakeMoltbook();

const get = (url: string, key?: string) => fetch(url, { headers: key ? { Authorization: `Bearer ${key}` } : {} });

describe('the fake Moltbook itself', () => {
  it('answers 401 Authentication required without a key or with a wrong one', async () => {
    const { fake } = await start();
    for (const key of [undefined, 'moltbook_sk_nope']) {
      const res = await get(`${fake.baseUrl}/agents/me`, key);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ success: false, error: 'Authentication required' });
    }
    expect(fake.requests.map((r) => r.authorized)).toEqual([false, false]);
  });

  it('accepts keys of added agents', async () => {
    const { fake } = await start();
    fake.addAgent({ name: 'crabby', apiKey: 'moltbook_sk_crab' });
    const res = await get(`${fake.baseUrl}/agents/me`, 'moltbook_sk_crab');
    expect(((await res.json()) as { agent: { name: string } }).agent.name).toBe('crabby');
  });

  it('sends X-RateLimit headers, and none when the limit is disabled', async () => {
    const { fake } = await start({ limits: { readsPerMinute: 60 } });
    const limited = await get(`${fake.baseUrl}/agents/me`, API_KEY);
    expect(limited.headers.get('x-ratelimit-limit')).toBe('60');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('59');
    expect(limited.headers.get('x-ratelimit-reset')).toBe(String(Date.parse('2026-03-01T12:01:00Z') / 1000));

    fake.setLimits({ readsPerMinute: null });
    const unlimited = await get(`${fake.baseUrl}/agents/me`, API_KEY);
    expect(unlimited.headers.get('x-ratelimit-limit')).toBeNull();
  });

  it('limits are per key', async () => {
    const { fake } = await start({ limits: { readsPerMinute: 1 } });
    fake.addAgent({ name: 'crabby', apiKey: 'moltbook_sk_crab' });
    expect((await get(`${fake.baseUrl}/home`, API_KEY)).status).toBe(200);
    expect((await get(`${fake.baseUrl}/home`, API_KEY)).status).toBe(429);
    expect((await get(`${fake.baseUrl}/home`, 'moltbook_sk_crab')).status).toBe(200);
  });

  it('redirects the bare-host prefix to the API with the same path and query', async () => {
    const { fake } = await start();
    const res = await fetch(`${fake.redirectingBaseUrl(308)}/search?q=x`, { redirect: 'manual' });
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe(`${fake.baseUrl}/search?q=x`);
  });

  it('failNext matches method and one path segment per *, and counts down `times`', async () => {
    const { fake } = await start();
    const post = fake.addPost({ title: 'P', content: 'p' });
    fake.failNext('GET', '/posts/*', { status: 503, times: 2 });
    expect((await get(`${fake.baseUrl}/posts/${post.id}/comments`, API_KEY)).status).toBe(200);
    expect((await get(`${fake.baseUrl}/posts/${post.id}`, API_KEY)).status).toBe(503);
    expect((await get(`${fake.baseUrl}/posts/${post.id}`, API_KEY)).status).toBe(503);
    expect((await get(`${fake.baseUrl}/posts/${post.id}`, API_KEY)).status).toBe(200);
    expect(requestsTo(fake, 'GET', `/posts/${post.id}`).map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('addComment refuses unknown posts and parents from other posts', async () => {
    const { fake } = await start();
    const a = fake.addPost({ title: 'A', content: 'a' });
    const b = fake.addPost({ title: 'B', content: 'b' });
    const onA = fake.addComment(a.id, { author: 'crabby', content: 'x' });
    expect(() => fake.addComment('nope', { author: 'crabby', content: 'x' })).toThrow(/no post/);
    expect(() => fake.addComment(b.id, { author: 'crabby', content: 'x', parentId: onA.id })).toThrow(/no comment/);
  });

  it('computes similarity as the share of query words found', () => {
    expect(tokenOverlap('agent memory', 'Memory for agents')).toBe(0.5);
    expect(tokenOverlap('agent memory', 'an agent with memory')).toBe(1);
    expect(tokenOverlap('agent memory', 'lobster')).toBe(0);
    expect(tokenOverlap('', 'anything')).toBe(0);
  });

  it('stops accepting connections on close, and close is idempotent', async () => {
    const { fake } = await start();
    await fake.close();
    await fake.close();
    await expect(get(`${fake.baseUrl}/home`, API_KEY)).rejects.toThrow();
  });
});

describe('the fake Moltbook: verification challenges and suspensions', () => {
  it('one attempt per code, hidden until verified, expiry, and a suspension after repeated failures', async () => {
    const { fake, client, clock } = await start({ verification: true, verificationOptions: { ttlMs: 60_000, suspendAfterFailures: 3 } });
    const other = fake.addAgent({ name: 'reader', apiKey: 'moltbook_sk_reader' });
    const post = fake.addPost({ author: 'someone', title: 'P', content: 'x' });
    const created = await client.createComment(post.id, { content: 'mine' });
    expect(created.verification?.challenge_text).toMatch(/\w/);
    const code = created.verification!.verification_code;
    const seenBy = async (key: string) =>
      ((await (await get(`${fake.baseUrl}/posts/${post.id}/comments`, key)).json()) as { comments: unknown[] }).comments.length;
    expect(await seenBy(other.apiKey!)).toBe(0); // hidden from others
    expect(await seenBy(API_KEY)).toBe(1); // its author sees it

    await client.verify(code, fake.challenges()[0]!.answer);
    expect(await seenBy(other.apiKey!)).toBe(1);
    const again = await client.verify(code, fake.challenges()[0]!.answer).catch((e: unknown) => e);
    expect(again).toMatchObject({ status: 409 });

    const late = await client.createComment(post.id, { content: 'late' });
    clock.advance(61_000);
    expect(await client.verify(late.verification!.verification_code, '1.00').catch((e: unknown) => e)).toMatchObject({ status: 410 });
    for (let i = 0; i < 2; i++) {
      const c = await client.createComment(post.id, { content: `wrong ${i}` });
      expect(await client.verify(c.verification!.verification_code, '-1.00').catch((e: unknown) => e)).toMatchObject({ status: 400 });
    }
    const suspended = await client.createComment(post.id, { content: 'after' }).catch((e: unknown) => e);
    expect(suspended).toMatchObject({ name: 'MoltbookSuspendedError', status: 401 });
    expect((suspended as { endsAt: Date }).endsAt.getTime()).toBe(clock.now().getTime() + 10 * 3_600_000);
    expect(fake.challenges().map((c) => c.outcome)).toEqual(['verified', 'expired', 'wrong', 'wrong']);
  });

  it('lists authors as null in outage mode, and a 403 suspension shape on request', async () => {
    const { fake, client } = await start();
    const post = fake.addPost({ author: 'someone', title: 'P', content: 'x' });
    fake.addComment(post.id, { author: 'alice', content: 'hi' });
    fake.setNullAuthors(true);
    expect((await client.listComments(post.id)).comments[0]!.author).toBeNull();
    fake.suspend(5, 403);
    const refused = await client.createComment(post.id, { content: 'x' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'MoltbookSuspendedError', status: 403, endsAt: null });
  });
});

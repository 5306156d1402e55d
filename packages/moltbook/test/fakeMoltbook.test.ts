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

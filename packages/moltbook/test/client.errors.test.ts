import { describe, expect, it } from 'vitest';
import {
  assertPinnedBaseUrl,
  createMoltbookClient,
  MoltbookApiError,
  MoltbookError,
  MoltbookRateLimitError,
  MoltbookRedirectError,
  MoltbookResponseError,
} from '../src/index.ts';
import { API_KEY, rejectionOf, requestsTo, useFakeMoltbook } from './helpers.ts';

const start = useFakeMoltbook();

describe('error shapes', () => {
  it('reads a NestJS validation error (message array, error label)', async () => {
    const { fake, client } = await start();
    const error = await rejectionOf(client.createPost({ submolt_name: '', title: '', content: 'x' }));
    expect(error).toBeInstanceOf(MoltbookApiError);
    expect(error).toMatchObject({
      status: 400,
      serverMessage: 'submolt_name should not be empty; title should not be empty',
      label: 'Bad Request',
      method: 'POST',
      path: '/posts',
    });
    expect(error.message).toContain('title should not be empty');
    expect([...fake.requests]).toHaveLength(1);
  });

  it('reads a NestJS error with a string message', async () => {
    const { fake, client } = await start();
    fake.failNext('GET', '/agents/me', { status: 403, body: { statusCode: 403, message: 'Agent is suspended', error: 'Forbidden' } });
    const error = await rejectionOf(client.getMe());
    expect(error).toMatchObject({ status: 403, serverMessage: 'Agent is suspended', label: 'Forbidden' });
  });

  it('reads the documented {success:false, error, hint} shape, also on a 200', async () => {
    const { fake, client } = await start();
    fake.failNext('GET', '/home', { status: 200, body: { success: false, error: 'Home is resting', hint: 'Try later' } });
    const error = await rejectionOf(client.getHome());
    expect(error).toBeInstanceOf(MoltbookApiError);
    expect(error).toMatchObject({ status: 200, serverMessage: 'Home is resting', hint: 'Try later' });
  });

  it('answers 401 Authentication required for a wrong key', async () => {
    const { fake, clientWith } = await start();
    const error = await rejectionOf(clientWith({ apiKey: 'moltbook_sk_wrong' }).getMe());
    expect(error).toMatchObject({ status: 401, serverMessage: 'Authentication required' });
    expect(fake.requests[0]?.authorized).toBe(false);
  });

  it('keeps a short snippet of a non-JSON error body', async () => {
    const { fake, clientWith } = await start();
    fake.failNext('GET', '/agents/me', { status: 502, body: '<html>Bad Gateway</html>' });
    const error = await rejectionOf(clientWith({ readRetries: 0 }).getMe());
    expect(error).toMatchObject({ status: 502, serverMessage: '<html>Bad Gateway</html>' });
  });

  it('a 200 that does not match the schema is a MoltbookResponseError naming the field', async () => {
    const { fake, client } = await start();
    fake.failNext('GET', '/agents/me', { status: 200, body: { success: true, agent: { karma: 'lots' } } });
    const error = await rejectionOf(client.getMe());
    expect(error).toBeInstanceOf(MoltbookResponseError);
    const issues = (error as MoltbookResponseError).issues.map((i) => i.path);
    expect(issues).toEqual(expect.arrayContaining(['agent.name', 'agent.karma']));
    expect(requestsTo(fake, 'GET', '/agents/me')).toHaveLength(1);
  });

  it('a 200 that is not JSON is a MoltbookResponseError', async () => {
    const { fake, client } = await start();
    fake.failNext('GET', '/agents/me', { status: 200, body: '<html>maintenance</html>' });
    expect(await rejectionOf(client.getMe())).toBeInstanceOf(MoltbookResponseError);
  });
});

describe('429 parsing', () => {
  const cases: [string, Record<string, unknown>, Record<string, string>, number, string][] = [
    ['retry_after_seconds first', { statusCode: 429, retry_after_seconds: 45, retry_after_minutes: 30 }, { 'Retry-After': '7' }, 45_000, 'retry_after_seconds'],
    ['then retry_after_minutes', { success: false, error: 'slow down', retry_after_minutes: 30 }, { 'Retry-After': '7' }, 1_800_000, 'retry_after_minutes'],
    ['then the Retry-After header', { success: false, error: 'slow down' }, { 'Retry-After': '7' }, 7_000, 'retry-after-header'],
    ['a Retry-After HTTP date, read on the clock', { success: false, error: 'slow down' }, { 'Retry-After': 'Sun, 01 Mar 2026 12:02:00 GMT' }, 120_000, 'retry-after-header'],
    ['then 60 s', { success: false, error: 'slow down' }, {}, 60_000, 'default'],
    ['numeric strings count', { success: false, error: 'slow down', retry_after_seconds: '12' }, {}, 12_000, 'retry_after_seconds'],
    ['inside a data wrapper', { success: false, data: { retry_after_minutes: 2 } }, {}, 120_000, 'retry_after_minutes'],
  ];

  it.each(cases)('%s', async (_name, body, headers, retryAfterMs, source) => {
    const { fake, client } = await start();
    fake.failNext('GET', '/agents/me', { status: 429, body, headers });
    const error = await rejectionOf(client.getMe());
    expect(error).toBeInstanceOf(MoltbookRateLimitError);
    expect(error).toMatchObject({ status: 429, retryAfterMs, retryAfterSource: source });
    expect(requestsTo(fake, 'GET', '/agents/me')).toHaveLength(1);
  });
});

describe("the fake's rate limits, seen through the client", () => {
  it('1 post per 30 minutes, answered with retry_after_minutes', async () => {
    const { fake, client, clock } = await start({ limits: { postIntervalMs: 30 * 60_000 } });
    await client.createPost({ submolt_name: 'general', title: 'one', content: '1' });
    clock.advance(10 * 60_000);
    const error = await rejectionOf(client.createPost({ submolt_name: 'general', title: 'two', content: '2' }));
    expect(error).toBeInstanceOf(MoltbookRateLimitError);
    expect(error).toMatchObject({
      retryAfterMs: 20 * 60_000,
      retryAfterSource: 'retry_after_minutes',
      serverMessage: 'You can only post once every 30 minutes',
      hint: 'Wait 20 minutes before posting again',
    });
    clock.advance(20 * 60_000);
    await client.createPost({ submolt_name: 'general', title: 'two', content: '2' });
    expect(requestsTo(fake, 'POST', '/posts').map((r) => r.status)).toEqual([201, 429, 201]);
  });

  it('1 comment per 20 s with daily_remaining, and 50 a day', async () => {
    const { fake, client, clock } = await start({ limits: { commentIntervalMs: 20_000, commentsPerDay: 3 } });
    const post = fake.addPost({ title: 'P', content: 'p' });
    await client.createComment(post.id, { content: 'c1' });
    clock.advance(5_000);
    const cooldown = await rejectionOf(client.createComment(post.id, { content: 'c2' }));
    expect(cooldown).toMatchObject({ status: 429, retryAfterMs: 15_000, retryAfterSource: 'retry_after_seconds', dailyRemaining: 2 });

    clock.advance(15_000);
    await client.createComment(post.id, { content: 'c2' });
    clock.advance(20_000);
    await client.createComment(post.id, { content: 'c3' });
    clock.advance(20_000);
    const daily = await rejectionOf(client.createComment(post.id, { content: 'c4' }));
    expect(daily).toMatchObject({ status: 429, dailyRemaining: 0 });
    expect((daily as MoltbookRateLimitError).retryAfterMs).toBe(Date.parse('2026-03-02T00:00:00Z') - clock.now().getTime());
    expect(fake.commentsOn(post.id).map((c) => c.content)).toEqual(['c1', 'c2', 'c3']);

    clock.set('2026-03-02T00:00:00Z');
    await client.createComment(post.id, { content: 'c4' });
  });

  it('per-minute read limit answers the NestJS 429 with Retry-After and X-RateLimit headers', async () => {
    const { fake, client, clock } = await start({ limits: { readsPerMinute: 2 } });
    await client.getMe();
    clock.advance(15_000);
    await client.getMe();
    const error = await rejectionOf(client.getMe());
    expect(error).toMatchObject({ status: 429, serverMessage: 'Rate limit exceeded', retryAfterMs: 45_000, retryAfterSource: 'retry_after_seconds' });

    const raw = await fetch(`${fake.baseUrl}/agents/me`, { headers: { Authorization: `Bearer ${API_KEY}` } });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('45');
    expect(raw.headers.get('x-ratelimit-limit')).toBe('2');
    expect(raw.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(await raw.json()).toEqual({
      statusCode: 429,
      message: 'Rate limit exceeded',
      remaining: 0,
      reset_at: '2026-03-01T12:01:00.000Z',
      retry_after_seconds: 45,
    });

    clock.advance(45_000);
    await expect(client.getMe()).resolves.toMatchObject({ name: 'opsbot' });
  });

  it('writes have their own per-minute window', async () => {
    const { fake, client } = await start({ limits: { writesPerMinute: 1 } });
    const post = fake.addPost({ title: 'P', content: 'p' });
    await client.createComment(post.id, { content: 'one' });
    await expect(client.createComment(post.id, { content: 'two' })).rejects.toBeInstanceOf(MoltbookRateLimitError);
    await expect(client.getPost(post.id)).resolves.toMatchObject({ id: post.id });
  });
});

describe('redirects and the pinned host', () => {
  it.each([301, 307] as const)('refuses a real %i redirect from the bare host without following it', async (status) => {
    const { fake, clientWith } = await start();
    const post = fake.addPost({ title: 'P', content: 'p' });
    const client = clientWith({ baseUrl: fake.redirectingBaseUrl(status) });

    const read = await rejectionOf(client.getMe());
    expect(read).toBeInstanceOf(MoltbookRedirectError);
    expect(read).toMatchObject({ status, location: `${fake.baseUrl}/agents/me` });
    expect(read.message).toContain('Authorization header');
    expect(read.message).toContain('https://www.moltbook.com');

    await expect(client.createComment(post.id, { content: 'hello' })).rejects.toBeInstanceOf(MoltbookRedirectError);
    expect(fake.commentsOn(post.id)).toEqual([]);
    expect(fake.requests.map((r) => r.status)).toEqual([status, status]);
    expect(fake.requests.every((r) => r.path.startsWith('/__redirect/'))).toBe(true);
  });

  it('assertPinnedBaseUrl accepts www.moltbook.com over https and loopback hosts only', () => {
    for (const ok of ['https://www.moltbook.com/api/v1', 'http://127.0.0.1:4000/api/v1', 'http://localhost:1/x', 'http://[::1]:9/api/v1']) {
      expect(() => assertPinnedBaseUrl(ok)).not.toThrow();
    }
    for (const bad of [
      'https://moltbook.com/api/v1',
      'http://www.moltbook.com/api/v1',
      'https://www.moltbook.com.evil.example/api/v1',
      'https://www.moltbook.com:8443/api/v1',
      'https://user:pw@www.moltbook.com/api/v1',
      'not a url',
    ]) {
      expect(() => assertPinnedBaseUrl(bad), bad).toThrow(MoltbookError);
    }
    expect(() => assertPinnedBaseUrl('https://moltbook.com/api/v1')).toThrow(/www\.moltbook\.com/);
    expect(() => createMoltbookClient({ apiKey: API_KEY, baseUrl: 'https://moltbook.com/api/v1' })).toThrow(/drop the Authorization header/);
  });
});

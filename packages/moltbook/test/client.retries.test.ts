import { describe, expect, it, vi } from 'vitest';
import { backoffDelayMs } from '@opsloop/core';
import { MoltbookApiError, MoltbookNetworkError, MoltbookTimeoutError } from '../src/index.ts';
import { rejectionOf, requestsTo, useFakeMoltbook } from './helpers.ts';

const start = useFakeMoltbook();

describe('retries: GETs only, transient failures only', () => {
  it('retries a GET after a 500 and succeeds', async () => {
    const { fake, client, sleeps } = await start();
    fake.failNext('GET', '/agents/me', { status: 500 });
    await expect(client.getMe()).resolves.toMatchObject({ name: 'opsbot' });
    expect(requestsTo(fake, 'GET', '/agents/me').map((r) => r.status)).toEqual([500, 200]);
    expect(sleeps).toEqual([backoffDelayMs(0, 500, 5_000, () => 0.5)]);
  });

  it('gives up after readRetries extra attempts, backing off longer each time', async () => {
    const { fake, client, sleeps } = await start();
    fake.failNext('GET', '/agents/me', { status: 503, times: 5 });
    const error = await rejectionOf(client.getMe());
    expect(error).toBeInstanceOf(MoltbookApiError);
    expect(error).toMatchObject({ status: 503 });
    expect(requestsTo(fake, 'GET', '/agents/me')).toHaveLength(3);
    expect(sleeps).toEqual([375, 750]);
  });

  it('readRetries: 0 means one attempt', async () => {
    const { fake, clientWith, sleeps } = await start();
    fake.failNext('GET', '/agents/me', { status: 500 });
    await expect(clientWith({ readRetries: 0 }).getMe()).rejects.toMatchObject({ status: 500 });
    expect(requestsTo(fake, 'GET', '/agents/me')).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('does not retry a 4xx or a 429', async () => {
    const { fake, client, sleeps } = await start();
    fake.failNext('GET', '/agents/me', { status: 429, body: { statusCode: 429, message: 'Rate limit exceeded', retry_after_seconds: 5 } });
    await expect(client.getMe()).rejects.toMatchObject({ status: 429 });
    await expect(client.getPost('missing')).rejects.toMatchObject({ status: 404 });
    expect(fake.requests).toHaveLength(2);
    expect(sleeps).toEqual([]);
  });

  it('never retries a POST after a 500', async () => {
    const { fake, client, sleeps } = await start();
    const post = fake.addPost({ title: 'P', content: 'p' });
    fake.failNext('POST', '/posts/*/comments', { status: 500 });
    await expect(client.createComment(post.id, { content: 'hi' })).rejects.toMatchObject({ status: 500 });
    expect(requestsTo(fake, 'POST', `/posts/${post.id}/comments`)).toHaveLength(1);
    expect(fake.commentsOn(post.id)).toEqual([]);
    expect(sleeps).toEqual([]);
  });
});

describe('timeouts', () => {
  it('a GET that does not answer in time is a MoltbookTimeoutError', async () => {
    const { fake, clientWith } = await start();
    fake.failNext('GET', '/agents/me', { delayMs: 10_000 });
    const error = await rejectionOf(clientWith({ timeoutMs: 100, readRetries: 0 }).getMe());
    expect(error).toBeInstanceOf(MoltbookTimeoutError);
    expect(error).toMatchObject({ timeoutMs: 100, method: 'GET', path: '/agents/me' });
  });

  it('a timed-out GET is retried', async () => {
    const { fake, clientWith, sleeps } = await start();
    fake.failNext('GET', '/agents/me', { delayMs: 10_000 });
    await expect(clientWith({ timeoutMs: 100 }).getMe()).resolves.toMatchObject({ name: 'opsbot' });
    expect(requestsTo(fake, 'GET', '/agents/me')).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('a timed-out POST is not retried, and may land afterwards', async () => {
    const { fake, clientWith } = await start();
    const post = fake.addPost({ title: 'P', content: 'p' });
    fake.failNext('POST', '/posts/*/comments', { delayMs: 300 });
    const error = await rejectionOf(clientWith({ timeoutMs: 50 }).createComment(post.id, { content: 'slow' }));
    expect(error).toBeInstanceOf(MoltbookTimeoutError);
    expect(error.message).toContain('may still have landed');
    await vi.waitFor(() => expect(fake.commentsOn(post.id)).toHaveLength(1), { timeout: 5_000, interval: 20 });
    expect(requestsTo(fake, 'POST', `/posts/${post.id}/comments`)).toHaveLength(1);
  });
});

describe('a connection cut after the write applied', () => {
  it('surfaces as a MoltbookNetworkError; the comment exists exactly once', async () => {
    const { fake, client, sleeps } = await start();
    const post = fake.addPost({ title: 'P', content: 'p' });
    const parent = fake.addComment(post.id, { author: 'crabby', content: 'question?' });
    fake.failNext('POST', '/posts/*/comments', { dropAfterApply: true });

    const error = await rejectionOf(client.createComment(post.id, { content: 'answer', parent_id: parent.id }));
    expect(error).toBeInstanceOf(MoltbookNetworkError);
    expect(error).not.toBeInstanceOf(MoltbookApiError);
    expect(error.message).toContain('may still have landed');

    expect(fake.repliesTo(parent.id).map((c) => c.content)).toEqual(['answer']);
    expect(requestsTo(fake, 'POST', `/posts/${post.id}/comments`)).toMatchObject([{ dropped: true, status: null }]);
    expect(sleeps).toEqual([]);

    const thread = await client.listAllComments(post.id);
    expect(thread[0]?.replies.map((c) => c.content)).toEqual(['answer']);
  });

  it('a dropped GET is retried', async () => {
    const { fake, client } = await start();
    fake.failNext('GET', '/home', { dropAfterApply: true });
    await expect(client.getHome()).resolves.toMatchObject({ your_account: { name: 'opsbot' } });
    expect(requestsTo(fake, 'GET', '/home').map((r) => r.dropped)).toEqual([true, false]);
  });
});

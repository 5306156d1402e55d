import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@opsloop/core';
import { createMoltbookClient } from '../src/index.ts';
import { API_KEY, useFakeMoltbook } from './helpers.ts';

const start = useFakeMoltbook();

describe('the API key never leaves the client', () => {
  it('is absent from every error message, error object and log line, even when the server echoes it', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'trace', destination: { write: (line: string) => void lines.push(line) } });
    const { fake, clientWith } = await start();
    // Long enough for a loaded machine's first request, far below the 5 s hang below.
    const client = clientWith({ logger, timeoutMs: 1000 });
    const errors: unknown[] = [];
    const attempt = async (call: () => Promise<unknown>) => {
      try {
        await call();
      } catch (error) {
        errors.push(error);
      }
    };

    const { post } = await client.createPost({ submolt_name: 'general', title: 'T', content: 'C' });
    await client.createComment(post.id, { content: 'hello' });
    await client.listAllComments(post.id);
    await client.search({ q: 'hello' });

    fake.failNext('GET', '/agents/me', { status: 401, body: { success: false, error: `Invalid API key: ${API_KEY}`, hint: `Key ${API_KEY} revoked` } });
    await attempt(() => client.getMe());
    fake.failNext('POST', '/posts', { status: 400, body: { statusCode: 400, message: [`bad key ${API_KEY}`], error: API_KEY } });
    await attempt(() => client.createPost({ submolt_name: 'general', title: 'T', content: 'C' }));
    fake.failNext('GET', '/home', { status: 429, body: { statusCode: 429, message: `limit for ${API_KEY}`, retry_after_seconds: 3 } });
    await attempt(() => client.getHome());
    fake.failNext('GET', '/feed', { status: 500, body: `<html>upstream said Authorization: Bearer ${API_KEY}</html>`, times: 3 });
    await attempt(() => client.getFeed());
    fake.failNext('GET', '/posts/*', { status: 301, headers: { Location: `https://www.moltbook.com/api/v1/posts/x?key=${API_KEY}` } });
    await attempt(() => client.getPost(post.id));
    await attempt(() => clientWith({ logger, baseUrl: fake.redirectingBaseUrl(307) }).getMe());
    fake.failNext('GET', '/agents/me', { delayMs: 5_000, times: 3 });
    await attempt(() => client.getMe());
    fake.failNext('POST', '/posts/*/comments', { dropAfterApply: true });
    await attempt(() => client.createComment(post.id, { content: 'dropped' }));
    fake.failNext('GET', '/agents/me', { status: 200, body: { success: true, agent: { name: 42, description: API_KEY } } });
    await attempt(() => client.getMe());
    await fake.close();
    await attempt(() => client.getMe());

    expect(errors).toHaveLength(10);
    const captured = [
      ...errors.map((e) => (e as Error).message),
      ...errors.map((e) => JSON.stringify(e)),
      ...errors.map((e) => inspect(e, { showHidden: true, depth: null })),
      ...errors.map((e) => String((e as Error).stack)),
      JSON.stringify(client),
      inspect(client, { showHidden: true, depth: null }),
      ...lines,
    ].join('\n');

    // The capture really holds what the server sent, scrubbed.
    expect(captured).toContain('Invalid API key: [redacted]');
    expect(captured).toContain('bad key [redacted]');
    expect(captured).toContain('key=[redacted]');
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.join('\n')).toContain('moltbook request failed');

    expect(captured).not.toContain(API_KEY);
    expect(captured).not.toMatch(/Bearer moltbook/);
    expect(JSON.stringify(fake.requests)).not.toContain(API_KEY);
  });

  it('an empty key is refused without echoing anything', () => {
    expect(() => createMoltbookClient({ apiKey: '' })).toThrow('Moltbook API key is empty');
  });
});

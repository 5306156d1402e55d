import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@opsloop/core';
import { createLlmClient, LlmError, type LlmClientOptions } from '../src/insights/llm.ts';
import { extractivePatterns, jaccard, parsePatternsOutput, type InsightEvent } from '../src/insights/patterns.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../src/testing/fakeOpenAI.ts';

const API_KEY = 'sk-test-llm-client-0123456789abcdefXYZ';

let fake: FakeOpenAI | undefined;
let lines: string[];
let slept: number[];

beforeEach(async () => {
  fake = await startFakeOpenAI({ apiKey: API_KEY });
  lines = [];
  slept = [];
});
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function client(overrides: Partial<LlmClientOptions> = {}) {
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const llm = createLlmClient({
    apiKey: API_KEY,
    baseUrl: `${fake!.url}/v1`,
    model: 'gpt-test',
    logger: createLogger({ level: 'debug', destination }),
    sleep: async (ms) => {
      slept.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  });
  if (!llm) throw new Error('expected a client');
  return llm;
}

const ask = { system: 'be brief', user: 'hello', purpose: 'test' };

describe('createLlmClient against a fake OpenAI server', () => {
  it('returns no client without an API key', () => {
    const logger = createLogger({ level: 'silent' });
    expect(createLlmClient({ model: 'gpt-test', logger })).toBeUndefined();
    expect(createLlmClient({ apiKey: '  ', model: 'gpt-test', logger })).toBeUndefined();
  });

  it('completes a chat over the wire format, with usage and the bearer key', async () => {
    fake!.enqueue({ content: 'hi there', usage: { prompt_tokens: 11, completion_tokens: 3 }, model: 'gpt-test-2026-01-01' });
    const result = await client().complete({ ...ask, json: true });
    expect(result).toEqual({ text: 'hi there', model: 'gpt-test-2026-01-01', usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 } });
    expect(fake!.requests).toHaveLength(1);
    expect(fake!.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      authorized: true,
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello' },
      ],
      responseFormat: { type: 'json_object' },
      status: 200,
    });
  });

  it('retries a 429, honouring retry-after, then succeeds', async () => {
    fake!.failNext({ status: 429, retryAfter: 2 });
    fake!.enqueue({ content: 'ok' });
    expect((await client().complete(ask)).text).toBe('ok');
    expect(fake!.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(slept).toEqual([2000]);
  });

  it('retries 5xx with backoff, then throws a typed LlmError', async () => {
    fake!.failNext({ status: 500, times: 3 });
    const error = await client().complete(ask).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ code: 'server_error', status: 500, attempts: 3 });
    expect(fake!.completionCount()).toBe(3);
    // backoff base 500 ms with random 0.5: 3/4 of 500, then of 1000.
    expect(slept).toEqual([375, 750]);
  });

  it('does not wait for a retry-after longer than maxRetryAfterMs', async () => {
    fake!.failNext({ status: 429, retryAfter: 3600 });
    await expect(client().complete(ask)).rejects.toMatchObject({ code: 'rate_limited', attempts: 1 });
    expect(slept).toEqual([]);
  });

  it('retries a timeout', async () => {
    fake!.delayNext(2_000);
    fake!.enqueue({ content: 'late but fine' });
    const result = await client({ timeoutMs: 150 }).complete(ask);
    expect(result.text).toBe('late but fine');
    expect(fake!.completionCount()).toBe(2);
    expect(slept).toHaveLength(1);
  });

  it('an aborted signal stops before any request', async () => {
    const abort = new AbortController();
    abort.abort();
    await expect(client().complete({ ...ask, signal: abort.signal })).rejects.toMatchObject({ code: 'aborted' });
    expect(fake!.requests).toHaveLength(0);
  });

  it('an abort during the wait between retries ends the call at once', async () => {
    fake!.failNext({ status: 503, times: 5 });
    const abort = new AbortController();
    const never = client({ sleep: () => new Promise<void>(() => {}) });
    const call = never.complete({ ...ask, signal: abort.signal });
    await expect.poll(() => fake!.requests[0]?.status).toBe(503);
    abort.abort();
    await expect(call).rejects.toMatchObject({ code: 'aborted', attempts: 1 });
    expect(fake!.completionCount()).toBe(1);
  });

  it('never lets the key into errors or logs, even when the server echoes it', async () => {
    const wrongKey = `${API_KEY}-revoked`;
    const error = await client({ apiKey: wrongKey })
      .complete(ask)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unauthorized', status: 401, attempts: 1 });
    expect(fake!.requests[0]!.authorized).toBe(false);
    const text = [String(error), (error as Error).stack, JSON.stringify(error), lines.join('')].join('\n');
    expect(text).toContain('Incorrect API key provided');
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain('0123456789abcdef');
    expect(lines.length).toBeGreaterThan(0);
  });
});

describe('pattern helpers', () => {
  it('parses the JSON answer, also inside a code fence with prose, and keeps three patterns at most', () => {
    const answer = [
      'Here you go:',
      '```json',
      JSON.stringify({ patterns: [1, 2, 3, 4].map((n) => ({ content: `pattern ${n}`, tags: ['Tag', 'tag', ` T${n} `] })) }),
      '```',
    ].join('\n');
    expect(parsePatternsOutput(answer)).toEqual([1, 2, 3].map((n) => ({ content: `pattern ${n}`, tags: ['tag', `t${n}`] })));
    expect(parsePatternsOutput('{"patterns":[{"content":"x"}]}')).toEqual([{ content: 'x', tags: [] }]);
  });

  it('rejects unreadable answers as invalid_output', () => {
    for (const bad of ['no json here', '{"patterns": []}', '{"patterns": [{"tags": []}]}', '{"patterns": "x"']) {
      expect(() => parsePatternsOutput(bad)).toThrow(expect.objectContaining({ code: 'invalid_output' }));
    }
  });

  it('jaccard: rewording with the same words is a near duplicate, a different topic is not', () => {
    const a = 'Posts about open source tooling draw many replies.';
    expect(jaccard(a, 'posts about open-source tooling draw many replies')).toBe(1);
    expect(jaccard(a, 'Posts about open source tooling draw lots of replies.')).toBeCloseTo(7 / 10);
    expect(jaccard(a, 'Short videos at night get shared')).toBe(0);
  });

  it('the extractive fallback is deterministic and ignores ids', () => {
    const events: InsightEvent[] = [
      { id: 1n, createdAt: new Date(0), payload: { post_id: 'zzz-unique', title: 'Rust async runtimes compared', commenters: ['alice', 'bob'] } },
      { id: 2n, createdAt: new Date(0), payload: { post_id: 'zzz-unique', title: 'Why async Rust is hard on Postgres', commenters: ['alice'] } },
      { id: 3n, createdAt: new Date(0), payload: { post_id: 'zzz-unique', title: 'Postgres tuning', preview: 'rust and postgres', commenters: ['carol'] } },
    ];
    const patterns = extractivePatterns(events);
    expect(patterns).toEqual([
      // Counted once per event, then by total mentions, then alphabetically.
      { content: 'Recurring themes across 3 high-engagement posts: rust, postgres, async.', tags: ['engagement', 'rust', 'postgres', 'async'] },
      { content: 'Recurring commenters across high-engagement posts: alice.', tags: ['engagement', 'commenters'] },
    ]);
    expect(extractivePatterns([...events].reverse())).toEqual(patterns);
  });
});

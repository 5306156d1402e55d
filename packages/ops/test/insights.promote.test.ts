import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, FakeClock } from '@opsloop/core';
import { createLlmClient, type LlmClient } from '../src/insights/llm.ts';
import { tokensUsedToday, withinBudget } from '../src/insights/llmBudget.ts';
import { INSIGHT_SOURCE, promoteInsights, type PromoteInsightsDeps } from '../src/insights/promoteInsights.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../src/testing/fakeOpenAI.ts';
import { runHeartbeat } from './helpers.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps } from '../../../test/app.ts';

const API_KEY = 'sk-test-promote-insights-9f8e7d6c5b4a3210';
const HOUR = 3_600_000;

let db: TestDatabase;
let fake: FakeOpenAI | undefined;
let clock: FakeClock;
let lines: string[];
let slept: number[];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.pool.query('TRUNCATE ops_events, wisdom_patterns, ops_llm_usage RESTART IDENTITY CASCADE');
  await db.pool.query(`UPDATE ops_policy SET value = '{"daily_tokens": 200000}' WHERE key = 'llm_budget'`);
  fake = await startFakeOpenAI({ apiKey: API_KEY });
  clock = new FakeClock('2026-11-23T03:00:00Z'); // 12:00 in Asia/Tokyo
  lines = [];
  slept = [];
});
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function deps(options: { llm?: 'none' | LlmClient } = {}): PromoteInsightsDeps {
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const ops = { ...createOps(db, clock), logger };
  const llm =
    options.llm === 'none'
      ? undefined
      : (options.llm ??
        createLlmClient({
          apiKey: API_KEY,
          baseUrl: `${fake!.url}/v1`,
          model: 'gpt-test',
          logger,
          random: () => 0.5,
          sleep: async (ms) => {
            slept.push(ms);
          },
        }));
  return { prisma: ops.prisma, clock, logger, policy: ops.policy, timeZone: ops.timeZone, llm };
}

async function highEngagement(n: number, payload: (i: number) => Record<string, unknown> = (i) => ({ post_id: `p${i}`, title: `Open source tooling thread ${i}`, commenters: ['alice', `guest${i}`] })) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = await db.prisma.opsEvent.create({ data: { kind: 'engagement:high', source: 'engagement', payload: payload(i) as object, createdAt: clock.now() } });
    ids.push(String(e.id));
  }
  return ids;
}

const answer = (...contents: string[]) => ({
  content: JSON.stringify({ patterns: contents.map((content, i) => ({ content, tags: ['engagement', `t${i}`] })) }),
  usage: { prompt_tokens: 120, completion_tokens: 30 },
});

const rows = () => db.prisma.wisdomPattern.findMany({ where: { source: INSIGHT_SOURCE }, orderBy: { createdAt: 'asc' } });
const eventIdsOf = (metadata: unknown) => ((metadata as { event_ids: number[] }).event_ids ?? []).map(String);

describe('promoteInsights with the LLM (fake OpenAI over HTTP)', () => {
  it('promotes three events once into one row; repeats make no LLM call; one new event alone does nothing', async () => {
    const ids = await highEngagement(3);
    fake!.enqueue(answer('Threads about open source tooling draw replies from the same regulars.', 'Numbered series keep readers coming back.'));

    const first = await promoteInsights(deps());
    expect(first).toMatchObject({ promoted: 3, eventIds: ids, method: 'llm' });
    expect(first.skipped).toBeUndefined();
    const [row, ...others] = await rows();
    expect(others).toEqual([]);
    expect(row!.content).toBe('Threads about open source tooling draw replies from the same regulars.\nNumbered series keep readers coming back.');
    expect(row!.tags).toEqual(['engagement', 't0', 't1']);
    expect(row!.createdAt).toEqual(clock.now());
    expect(row!.metadata).toMatchObject({ method: 'llm', model: 'gpt-test', patterns: [{ content: expect.any(String), tags: ['engagement', 't0'] }, expect.anything()] });
    expect(eventIdsOf(row!.metadata)).toEqual(ids);
    // The prompt carried the events, as JSON-only output was requested.
    const request = fake!.requests[0]!;
    expect(request.responseFormat).toEqual({ type: 'json_object' });
    expect(request.messages![1]!.content).toContain('Open source tooling thread 2');
    expect(await db.prisma.opsEvent.count({ where: { kind: 'insight:promoted' } })).toBe(1);

    clock.advance(HOUR);
    expect(await promoteInsights(deps())).toMatchObject({ promoted: 0, skipped: 'not_enough_events' });
    await highEngagement(1);
    expect(await promoteInsights(deps())).toMatchObject({ promoted: 0, skipped: 'not_enough_events' });
    expect(fake!.completionCount()).toBe(1);
    expect(await rows()).toHaveLength(1);
  });

  it('ignores events older than seven days', async () => {
    await highEngagement(2);
    clock.advance(7 * 24 * HOUR);
    await highEngagement(2);
    expect(await promoteInsights(deps())).toMatchObject({ promoted: 0, skipped: 'not_enough_events' });
    expect(fake!.completionCount()).toBe(0);
  });

  it('retries a 429 and creates the row', async () => {
    const ids = await highEngagement(3);
    fake!.failNext({ status: 429, retryAfter: 1 });
    fake!.enqueue(answer('Tooling threads win.'));
    expect(await promoteInsights(deps())).toMatchObject({ promoted: 3, eventIds: ids });
    expect(fake!.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(slept).toEqual([1000]);
    expect(await rows()).toHaveLength(1);
  });

  it('after 500 ×3 the phase fails and marks nothing; the next call, once the server recovers, promotes', async () => {
    const ids = await highEngagement(3);
    fake!.failNext({ status: 500, times: 3 });
    await expect(promoteInsights(deps())).rejects.toMatchObject({ name: 'LlmError', code: 'server_error', attempts: 3 });
    expect(fake!.completionCount()).toBe(3);
    expect(await rows()).toEqual([]);
    expect(await db.prisma.opsLlmUsage.count()).toBe(0);

    fake!.enqueue(answer('Tooling threads win.'));
    expect(await promoteInsights(deps())).toMatchObject({ promoted: 3, eventIds: ids });
    expect(await rows()).toHaveLength(1);
  });

  it('an unreadable answer fails the phase, records its tokens and marks nothing', async () => {
    await highEngagement(3);
    fake!.enqueue({ content: 'I think people like tooling.', usage: { prompt_tokens: 50, completion_tokens: 7 } });
    await expect(promoteInsights(deps())).rejects.toMatchObject({ code: 'invalid_output' });
    expect(await rows()).toEqual([]);
    expect(await db.prisma.opsLlmUsage.findMany({ select: { purpose: true, totalTokens: true } })).toEqual([{ purpose: 'promote_insights', totalTokens: 57 }]);

    fake!.enqueue({ content: '```json\n{"patterns":[{"content":"Tooling threads win.","tags":["tooling"]}]}\n```' });
    expect(await promoteInsights(deps())).toMatchObject({ promoted: 3 });
  });

  it('a near duplicate adds the events to the existing row instead of making a new one', async () => {
    const first = await highEngagement(3);
    fake!.enqueue(answer('Posts about open source tooling draw many replies.'));
    const created = await promoteInsights(deps());

    clock.advance(HOUR);
    const second = await highEngagement(3);
    fake!.enqueue(answer('posts about open-source tooling draw many replies'));
    const merged = await promoteInsights(deps());
    expect(merged).toMatchObject({ promoted: 3, eventIds: second, duplicateOf: created.patternId, patternId: created.patternId });

    const [row, ...others] = await rows();
    expect(others).toEqual([]);
    expect(eventIdsOf(row!.metadata)).toEqual([...first, ...second]);
    expect(row!.metadata).toMatchObject({ reinforced_count: 1, last_reinforced_at: expect.any(String) });
    const events = await db.prisma.opsEvent.findMany({ where: { kind: 'insight:promoted' }, orderBy: { id: 'asc' } });
    expect(events.map((e) => (e.payload as { duplicate_of?: string }).duplicate_of)).toEqual([undefined, created.patternId]);

    // Neither batch is offered again.
    clock.advance(HOUR);
    expect(await promoteInsights(deps())).toMatchObject({ skipped: 'not_enough_events' });
    expect(fake!.completionCount()).toBe(2);

    // Different content is not a duplicate.
    await highEngagement(3);
    fake!.enqueue(answer('Late-night short videos get shared widely.'));
    expect((await promoteInsights(deps())).duplicateOf).toBeUndefined();
    expect(await rows()).toHaveLength(2);
  });

  it('two concurrent calls promote the events once', async () => {
    const ids = await highEngagement(3);
    fake!.enqueue(answer('Tooling threads win.'));
    fake!.enqueue(answer('Tooling threads win, again.'));
    // Both calls reach the LLM before either writes: the race the lock must settle.
    const real = deps().llm!;
    let arrived = 0;
    let release!: () => void;
    const bothArrived = new Promise<void>((resolve) => (release = resolve));
    const gated: LlmClient = {
      model: real.model,
      async complete(request) {
        if (++arrived === 2) release();
        await bothArrived;
        return real.complete(request);
      },
    };
    const results = await Promise.all([promoteInsights(deps({ llm: gated })), promoteInsights(deps({ llm: gated }))]);
    expect(results.map((r) => r.promoted).sort()).toEqual([0, 3]);
    expect(results.map((r) => r.skipped ?? null)).toContain('promoted_concurrently');
    const all = await rows();
    expect(all).toHaveLength(1);
    expect(eventIdsOf(all[0]!.metadata)).toEqual(ids);
    expect(await db.prisma.opsLlmUsage.count()).toBe(2); // the loser's tokens were spent too
  });

  it('two concurrent calls without an LLM promote the events once', async () => {
    await highEngagement(3);
    const results = await Promise.all(Array.from({ length: 4 }, () => promoteInsights(deps({ llm: 'none' }))));
    expect(results.reduce((n, r) => n + r.promoted, 0)).toBe(3);
    expect(await rows()).toHaveLength(1);
  });
});

describe('promoteInsights without an API key', () => {
  it('stores an extractive fallback row and says so', async () => {
    const ids = await highEngagement(3);
    const result = await promoteInsights(deps({ llm: 'none' }));
    expect(result).toMatchObject({ promoted: 3, eventIds: ids, method: 'extractive_fallback' });
    const [row] = await rows();
    expect(row!.content).toBe(
      'Recurring themes across 3 high-engagement posts: open, source, thread, tooling.\nRecurring commenters across high-engagement posts: alice.',
    );
    expect(row!.metadata).toMatchObject({ method: 'extractive_fallback', patterns: expect.any(Array) });
    expect(row!.metadata).not.toHaveProperty('model');
    expect(eventIdsOf(row!.metadata)).toEqual(ids);
    expect(fake!.requests).toHaveLength(0);
    expect(await promoteInsights(deps({ llm: 'none' }))).toMatchObject({ skipped: 'not_enough_events' });
  });
});

describe('daily token budget', () => {
  it('records usage, and past the budget skips the call with one llm:budget_exceeded event a day', async () => {
    await highEngagement(3);
    fake!.enqueue(answer('Tooling threads win.'));
    await promoteInsights(deps());
    expect(await db.prisma.opsLlmUsage.findMany({ select: { purpose: true, model: true, promptTokens: true, completionTokens: true, totalTokens: true, createdAt: true } })).toEqual([
      { purpose: 'promote_insights', model: 'gpt-test', promptTokens: 120, completionTokens: 30, totalTokens: 150, createdAt: clock.now() },
    ]);

    await db.pool.query(`UPDATE ops_policy SET value = '{"daily_tokens": 150}' WHERE key = 'llm_budget'`);
    const d = deps();
    expect(await withinBudget(d, clock.now(), d.timeZone)).toEqual({ within: false, used: 150, limit: 150 });
    const ids = await highEngagement(3);
    clock.advance(HOUR);
    expect(await promoteInsights(d)).toMatchObject({ promoted: 0, skipped: 'llm_budget_exceeded' });
    expect(await promoteInsights(d)).toMatchObject({ promoted: 0, skipped: 'llm_budget_exceeded' });
    expect(fake!.completionCount()).toBe(1);
    const warnings = await db.prisma.opsEvent.findMany({ where: { kind: 'llm:budget_exceeded' } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ tags: ['warning'], payload: { purpose: 'promote_insights', used_tokens: 150, daily_tokens: 150 } });

    // Midnight in Asia/Tokyo (15:00 UTC): a new budget day; the waiting events go to the LLM.
    clock.set('2026-11-23T15:00:00Z');
    fake!.enqueue(answer('Regulars follow tooling threads.'));
    expect(await promoteInsights(d)).toMatchObject({ promoted: 3, eventIds: ids, method: 'llm' });
  });

  it('counts tokens from local midnight in the time zone', async () => {
    const at = (iso: string, totalTokens: number) =>
      db.prisma.opsLlmUsage.create({ data: { purpose: 'x', model: 'm', totalTokens, createdAt: new Date(iso) } });
    await at('2026-11-23T14:59:59Z', 100); // 23:59:59 on the 23rd in Tokyo
    await at('2026-11-23T15:00:00Z', 10); // 00:00 on the 24th in Tokyo
    await at('2026-11-23T20:00:00Z', 1);
    expect(await tokensUsedToday(db.prisma, new Date('2026-11-23T21:00:00Z'), 'Asia/Tokyo')).toBe(11);
    expect(await tokensUsedToday(db.prisma, new Date('2026-11-23T14:59:59.500Z'), 'Asia/Tokyo')).toBe(111);
    expect(await tokensUsedToday(db.prisma, new Date('2026-11-23T21:00:00Z'), 'UTC')).toBe(111);
  });
});

describe('as a heartbeat phase', () => {
  it('reports an LLM failure as a failed phase, without the key, and a success as a JSON result', async () => {
    await highEngagement(3);
    const d = deps();
    const phase = { name: 'promoteInsights', run: (ctx: { signal: AbortSignal }) => promoteInsights(d, { signal: ctx.signal }) };
    fake!.failNext({ status: 500, times: 3, message: `upstream said ${API_KEY}` });
    const failed = await runHeartbeat({ ...d, pool: db.pool }, [phase], 'test');
    expect(failed.status).toBe('completed');
    const report = failed.status === 'completed' ? failed.phases[0]! : undefined;
    expect(report).toMatchObject({ name: 'promoteInsights', ok: false, error: expect.stringContaining('HTTP 500') });
    expect(report!.error).not.toContain(API_KEY);

    fake!.enqueue(answer('Tooling threads win.'));
    const ok = await runHeartbeat({ ...d, pool: db.pool }, [phase], 'test');
    const run = await db.prisma.opsHeartbeatRun.findFirstOrThrow({ where: { id: ok.status === 'completed' ? ok.runId : -1 } });
    expect(run.results).toEqual([expect.objectContaining({ name: 'promoteInsights', ok: true, result: expect.objectContaining({ promoted: 3, method: 'llm' }) })]);
    expect(lines.join('')).not.toContain(API_KEY);
    expect(lines.join('')).not.toContain('9f8e7d6c5b4a3210');
  });
});

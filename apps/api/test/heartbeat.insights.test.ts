import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, silentLogger } from '@opsloop/core';
import { createLlmClient, promoteInsights } from '@opsloop/ops';
import { startFakeOpenAI } from '@opsloop/ops/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps, HEARTBEAT_TOKEN, startTestApp } from '../../../test/app.ts';

let db: TestDatabase;
let openai: Awaited<ReturnType<typeof startFakeOpenAI>>;
const OPENAI_KEY = 'sk-test-insights-key-000111222333';
beforeAll(async () => {
  db = await createTestDatabase();
  openai = await startFakeOpenAI({ apiKey: OPENAI_KEY });
});
afterAll(async () => {
  await openai?.close();
  await db?.drop();
});

describe('insight promotion through the heartbeat', () => {
  it('promotes once against the fake OpenAI server; repeated heartbeats do not promote the same events; no key -> fallback row', async () => {
    const clock = new FakeClock('2026-11-23T00:00:00Z');
    const ops = createOps(db, clock);
    const llm = createLlmClient({ apiKey: OPENAI_KEY, baseUrl: `${openai.url}/v1`, model: 'gpt-test', logger: silentLogger(), sleep: async () => {} });
    const app = await startTestApp(db, { clock, heartbeat: { promoteInsights: (ctx) => promoteInsights({ ...ops, llm }, { signal: ctx.signal }) } });
    try {
      for (let i = 0; i < 3; i++) {
        await db.prisma.opsEvent.create({ data: { kind: 'engagement:high', source: 'moltbook', payload: { post_id: 'p1', commenters: ['ann', 'bo'], preview: `launch thread ${i}` }, createdAt: clock.now() } });
      }
      openai.enqueue({ content: JSON.stringify({ patterns: [{ content: 'Launch threads draw repeat commenters', tags: ['launch', 'community'] }] }) });
      const beat = () => app.raw.post('/api/ops/heartbeat').set('Authorization', `Bearer ${HEARTBEAT_TOKEN}`);
      const first = await beat();
      expect(first.body.phases.find((p: { name: string }) => p.name === 'promoteInsights')).toMatchObject({ ok: true, result: { promoted: 3, method: 'llm' } }); // 3 events into one pattern
      await beat();
      await beat();
      expect(openai.completionCount()).toBe(1);
      const rows = await db.prisma.wisdomPattern.findMany();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ source: 'ops_insight_promotion', content: expect.stringContaining('Launch threads draw repeat commenters') });
      expect(await db.prisma.opsLlmUsage.count()).toBe(1);

      // Without a key: the deterministic fallback, said so in the row.
      for (let i = 0; i < 3; i++) {
        await db.prisma.opsEvent.create({ data: { kind: 'engagement:high', source: 'moltbook', payload: { post_id: 'p2', preview: `scaling tips ${i}` }, createdAt: clock.now() } });
      }
      const fallback = await promoteInsights({ ...ops, llm: undefined });
      expect(fallback).toMatchObject({ promoted: 3, method: 'extractive_fallback' });
      const row = await db.prisma.wisdomPattern.findFirstOrThrow({ where: { metadata: { path: ['method'], equals: 'extractive_fallback' } } });
      expect((row.metadata as { event_ids: number[] }).event_ids).toHaveLength(3);
    } finally {
      await app.close();
    }
  });
});

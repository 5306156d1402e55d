import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { registerMoltbookMetrics } from '../src/index.ts';
import { DEFAULT_FAKE_LIMITS } from '../src/testing/index.ts';
import { useFakeMoltbook } from './helpers.ts';

const start = useFakeMoltbook();

describe('Moltbook metrics', () => {
  it('counts writes by operation and outcome (ids never in labels) and keeps the rate-limit headroom', async () => {
    const { clientWith } = await start({ limits: DEFAULT_FAKE_LIMITS });
    const registry = new Registry();
    const client = clientWith({ metrics: registerMoltbookMetrics(registry) });
    const { post } = await client.createPost({ submolt_name: 'aiagents', title: 'Hello', content: 'First post' });
    await client.createComment(post.id, { content: 'a comment' }).catch(() => undefined);
    await client.createPost({ submolt_name: 'aiagents', title: 'Again', content: 'Too soon' }).catch(() => undefined); // 30-minute post interval
    const text = await registry.metrics();
    expect(text).toContain('opsloop_moltbook_writes_total{operation="/posts",outcome="ok"} 1');
    expect(text).toContain('opsloop_moltbook_writes_total{operation="/posts",outcome="rate_limited"} 1');
    expect(text).toMatch(/opsloop_moltbook_writes_total\{operation="\/posts\/:id\/comments",outcome="\w+"\} 1/);
    expect(text).not.toContain(post.id);
    expect(text).toMatch(/opsloop_moltbook_rate_limit_remaining\{bucket="write"\} \d+/);
  });
});

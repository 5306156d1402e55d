// npm run bench:metrics -- [events=1000000] [scrapes=50]
// A database with N events (plus 10k steps: queued, running, finished), then GET /metrics
// scraped over HTTP: the first scrape (cold: runs the database query) and the rest
// (the cached query, at most once per 10 s). Prints JSON.
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import express from 'express';
import { systemClock } from '@opsloop/core';
import { createOpsMetrics } from '@opsloop/ops';
import { benchDatabase, percentile } from './db.ts';

const events = Number(process.argv[2] ?? 1_000_000);
const scrapes = Number(process.argv[3] ?? 50);
const { db, close } = await benchDatabase(4);
const t0 = performance.now();
await db.pool.query(
  `INSERT INTO ops_events (kind, source, payload, created_at)
   SELECT 'bench:k' || (i % 50), 'bench', jsonb_build_object('i', i), now() - make_interval(secs => random() * 604800) FROM generate_series(1, $1) i`,
  [events],
);
await db.pool.query(`INSERT INTO ops_proposals (id, source, skill, title, steps, status) SELECT gen_random_uuid(), 'api', 'ops_internal', 'b', '[]', 'approved' FROM generate_series(1, 1)`);
await db.pool.query(`INSERT INTO ops_missions (proposal_id, title, skill, status, trace_id) SELECT id, 'b', 'ops_internal', 'running', trace_id FROM ops_proposals`);
await db.pool.query(
  `INSERT INTO ops_mission_steps (mission_id, position, kind, skill, status, trace_id, run_after)
   SELECT m.id, i, 'bench.k' || (i % 20), 'ops_internal', (ARRAY['queued', 'running', 'succeeded', 'succeeded'])[1 + i % 4], m.trace_id, now() - make_interval(secs => i)
   FROM ops_missions m, generate_series(0, 9999) i`,
);
await db.pool.query('ANALYZE');
const loadSeconds = (performance.now() - t0) / 1000;

const metrics = createOpsMetrics({ pool: db.pool, clock: systemClock });
const app = express();
app.get('/metrics', async (_req, res) => {
  const { contentType, body } = await metrics.scrape();
  res.setHeader('content-type', contentType).send(body);
});
const server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;

const scrape = async () => {
  const s = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  // A failed scrape is fast and would pass for a figure.
  if (!res.ok || !text.includes('opsloop_')) throw new Error(`scrape answered ${res.status}`);
  return { ms: performance.now() - s, bytes: text.length };
};
const cold = await scrape();
const warm: number[] = [];
for (let i = 0; i < scrapes; i++) warm.push((await scrape()).ms);
// Every scrape a fresh query: what the first scrape after each 10 s costs.
const uncached: number[] = [];
for (let i = 0; i < 10; i++) {
  const fresh = createOpsMetrics({ pool: db.pool, clock: systemClock, processMetrics: false });
  const s = performance.now();
  await fresh.scrape();
  uncached.push(performance.now() - s);
}
warm.sort((a, b) => a - b);
uncached.sort((a, b) => a - b);
server.close();
await close();
const r = (n: number) => Math.round(n * 10) / 10;
process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'metrics',
      events,
      steps: 10_000,
      loadSeconds: r(loadSeconds),
      bodyBytes: cold.bytes,
      coldScrapeMs: r(cold.ms),
      cachedScrapeMs: { p50: r(percentile(warm, 50)), p99: r(percentile(warm, 99)), max: r(warm.at(-1)!) },
      uncachedScrapeMs: { p50: r(percentile(uncached, 50)), max: r(uncached.at(-1)!) },
    },
    null,
    2,
  )}\n`,
);

// npm run bench:steps -- [steps=5000] [workers=4] [concurrency=50]
// Phase 1 (throughput): N single-step no-op missions are enqueued, then W in-process
// workers drain them. Phase 2 (latency): with W idle workers waiting, missions are
// proposed one at a time through createProposal; latency = enqueue to handler start.
import { performance } from 'node:perf_hooks';
import { createProposal, createWorker, listenForSteps, createOpsDeps, wakeOne } from '@opsloop/ops';
import { silentLogger, systemClock } from '@opsloop/core';
import { benchDatabase, percentile } from './db.ts';

const [steps = 5000, workers = 4, concurrency = 50] = process.argv.slice(2).map(Number);
const { db, close } = await benchDatabase(workers * 2 + 10);
const ops = createOpsDeps({ db, clock: systemClock, logger: silentLogger(), timeZone: 'UTC' });
const logger = ops.logger;

// Phase 1: enqueue in bulk (one statement), then drain.
await db.pool.query(`UPDATE ops_policy SET value = '{}' WHERE key = 'daily_quotas'`);
await db.pool.query(
  `WITH p AS (
     INSERT INTO ops_proposals (source, skill, title, steps, status)
     SELECT 'api', 'ops_internal', 'bench ' || i, '[]', 'approved' FROM generate_series(1, $1) i RETURNING id, trace_id
   ), m AS (
     INSERT INTO ops_missions (proposal_id, title, skill, status, trace_id) SELECT id, 'bench', 'ops_internal', 'queued', trace_id FROM p
     RETURNING id, trace_id
   )
   INSERT INTO ops_mission_steps (mission_id, position, kind, skill, params, status, trace_id)
   SELECT id, 0, 'ops.noop', 'ops_internal', '{}', 'queued', trace_id FROM m`,
  [steps],
);

let done = 0;
let finished: () => void = () => {};
const allDone = new Promise<void>((r) => (finished = r));
const handlers = new Map([
  [
    'ops.noop',
    async () => {
      if (++done === steps) finished();
      return null;
    },
  ],
]);
const t0 = performance.now();
const pool = Array.from({ length: workers }, () => createWorker({ deps: ops, handlers, concurrency, pollMs: 200 }));
pool.forEach((w) => w.start());
await allDone;
// Wait until the last completions are committed.
for (;;) {
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ops_missions WHERE status = 'succeeded'`);
  if (rows[0]!.n >= steps) break;
  await new Promise((r) => setTimeout(r, 5));
}
const seconds = (performance.now() - t0) / 1000;
await Promise.all(pool.map((w) => w.stop(1000)));

// Phase 2: idle workers, one proposal at a time.
const starts = new Map<string, number>();
const latencyHandlers = new Map([
  [
    'ops.noop',
    async (params: Record<string, unknown>) => {
      starts.set(String(params.note), performance.now());
      return null;
    },
  ],
]);
const idle = Array.from({ length: workers }, () => createWorker({ deps: ops, handlers: latencyHandlers, concurrency: 1, pollMs: 5000 }));
const listener = listenForSteps(db.url, logger, wakeOne(idle));
await listener.ready;
idle.forEach((w) => w.start());
await new Promise((r) => setTimeout(r, 200));
const latencies: number[] = [];
const proposeMs: number[] = [];
for (let i = 0; i < 200; i++) {
  const called = performance.now();
  await createProposal(ops, { title: 'latency', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: { note: String(i) } }] });
  // Enqueued = the proposal's transaction committed and returned. NOTIFY is delivered at
  // commit, so a handler can start a hair before the caller sees the commit: that
  // counts as 0, not as a negative latency.
  const enqueued = performance.now();
  proposeMs.push(enqueued - called);
  while (!starts.has(String(i))) await new Promise((r) => setImmediate(r));
  latencies.push(Math.max(0, starts.get(String(i))! - enqueued));
}
proposeMs.sort((a, b) => a - b);
await Promise.all(idle.map((w) => w.stop(1000)));
await listener.close();
latencies.sort((a, b) => a - b);

process.stdout.write(
  `${JSON.stringify({
    steps,
    workers,
    concurrency_per_worker: concurrency,
    seconds: Number(seconds.toFixed(3)),
    steps_per_second: Math.round(steps / seconds),
    p50_ms: Number(percentile(latencies, 50).toFixed(2)),
    p99_ms: Number(percentile(latencies, 99).toFixed(2)),
    latency_samples: latencies.length,
    create_proposal_p50_ms: Number(percentile(proposeMs, 50).toFixed(2)),
    latency_note: 'enqueue (createProposal committed) to handler start, idle workers woken by NOTIFY',
  })}\n`,
);
await close();

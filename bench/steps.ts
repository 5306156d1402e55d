// npm run bench:steps -- [missions=5000] [workers=4] [concurrency=50] [--steps-per-mission=1] [--processes]
// Phase 1 (throughput): N no-op missions of S steps are enqueued in one statement (the
// first step queued, the rest waiting for the one before, as createProposal writes
// them), then W workers drain them: in this process, or with --processes in W child
// processes (bench/stepsWorker.ts) with their own pools and LISTEN connections, as
// replicas would. Phase 2 (latency, in-process only): with W idle workers waiting,
// missions are proposed one at a time through createProposal; latency = enqueue to
// handler start.
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createProposal, createWorker, listenForSteps, createOpsDeps, wakeOne, type StepHandler } from '@opsloop/ops';
import { silentLogger, systemClock } from '@opsloop/core';
import { benchDatabase, percentile } from './db.ts';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'steps-per-mission': { type: 'string', default: '1' }, processes: { type: 'boolean', default: false } },
});
const [missions = 5000, workers = 4, concurrency = 50] = positionals.map(Number);
const stepsPerMission = Number(flags['steps-per-mission']);
const { db, url, close } = await benchDatabase(workers * 2 + 10);
const ops = createOpsDeps({ db, clock: systemClock, logger: silentLogger(), timeZone: 'UTC' });
const logger = ops.logger;

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
   SELECT id, s, 'ops.noop', 'ops_internal', '{}', CASE WHEN s = 0 THEN 'queued' ELSE 'waiting' END, trace_id
   FROM m, generate_series(0, $2 - 1) s`,
  [missions, stepsPerMission],
);

const succeeded = async () => (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ops_missions WHERE status = 'succeeded'`)).rows[0]!.n;
async function drained() {
  // The last completions commit after their handlers return: wait for the rows.
  while ((await succeeded()) < missions) await new Promise((r) => setTimeout(r, 5));
}

const t0 = performance.now();
if (flags.processes) {
  const children: ChildProcess[] = Array.from({ length: workers }, () =>
    fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'stepsWorker.ts'), [url, String(concurrency)], { execArgv: ['--import', 'tsx', '--conditions=@opsloop/source'] }),
  );
  await drained();
  await Promise.all(children.map((c) => new Promise((r) => (c.once('exit', r), c.send('stop')))));
} else {
  const handlers = new Map<string, StepHandler>([['ops.noop', async () => null]]);
  const pool = Array.from({ length: workers }, () => createWorker({ deps: ops, handlers, concurrency, pollMs: 200 }));
  const listener = listenForSteps(db.url, logger, wakeOne(pool));
  pool.forEach((w) => w.start());
  await drained();
  await Promise.all(pool.map((w) => w.stop(1000)));
  await listener.close();
}
const seconds = (performance.now() - t0) / 1000;
const throughput = {
  missions,
  steps_per_mission: stepsPerMission,
  workers,
  worker_processes: flags.processes ? workers : 0,
  concurrency_per_worker: concurrency,
  seconds: Number(seconds.toFixed(3)),
  steps_per_second: Math.round((missions * stepsPerMission) / seconds),
  missions_per_second: Math.round(missions / seconds),
};

let latency = {};
if (!flags.processes) {
  // Phase 2: idle workers, one proposal at a time.
  const starts = new Map<string, number>();
  const latencyHandlers = new Map<string, StepHandler>([
    [
      'ops.noop',
      async (params) => {
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
  for (let i = 0; i < 300; i++) {
    const called = performance.now();
    await createProposal(ops, { title: 'latency', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: { note: String(i) } }] });
    // Enqueued = the proposal's statement committed and returned. NOTIFY is delivered at
    // commit, so a handler can start a hair before the caller sees the commit: that
    // counts as 0, not as a negative latency.
    const enqueued = performance.now();
    proposeMs.push(enqueued - called);
    while (!starts.has(String(i))) await new Promise((r) => setImmediate(r));
    latencies.push(Math.max(0, starts.get(String(i))! - enqueued));
  }
  await Promise.all(idle.map((w) => w.stop(1000)));
  await listener.close();
  latencies.sort((a, b) => a - b);
  proposeMs.sort((a, b) => a - b);
  latency = {
    start_latency_p50_ms: Number(percentile(latencies, 50).toFixed(2)),
    start_latency_p99_ms: Number(percentile(latencies, 99).toFixed(2)),
    latency_samples: latencies.length,
    create_proposal_p50_ms: Number(percentile(proposeMs, 50).toFixed(2)),
    latency_note: 'enqueue (createProposal committed) to handler start, idle workers woken by NOTIFY',
  };
}
process.stdout.write(`${JSON.stringify({ ...throughput, ...latency, load_average_1m: Number(os.loadavg()[0]!.toFixed(2)) })}\n`);
await close();

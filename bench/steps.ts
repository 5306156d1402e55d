// npm run bench:steps -- [missions=5000] [workers=4] [concurrency=50] [--steps-per-mission=1] [--processes]
// Phase 1 (throughput): N no-op missions of S steps are enqueued in one statement (the
// first step queued, the rest waiting for the one before, as createProposal writes
// them), then W workers drain them: in this process, or with --processes in W child
// processes (bench/stepsWorker.ts) with their own pools and LISTEN connections, as
// replicas would. The clock runs from when every worker is up to when the database
// holds every mission succeeded. Phase 2 (latency, in-process only): with W idle
// workers waiting, missions are proposed one at a time through createProposal; latency
// = enqueue to handler start, right after the drain and again once the queue is
// vacuumed.
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createProposal, createWorker, listenForSteps, createOpsDeps, vacuumQueues, wakeOne, type StepHandler } from '@opsloop/ops';
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

// Progress is counted where the handlers run, not polled from the database: a count of
// succeeded missions every few milliseconds took a fifth of a core from PostgreSQL by
// the end of a 20k drain, and slowed what it measured.
const totalSteps = missions * stepsPerMission;
let allHandled: () => void = () => {};
const handledAll = new Promise<void>((resolve) => (allHandled = resolve));
const succeeded = async () => (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ops_missions WHERE status = 'succeeded'`)).rows[0]!.n;
async function drained() {
  await handledAll;
  // The last completions commit after their handlers return: wait for the rows.
  while ((await succeeded()) < missions) await new Promise((r) => setTimeout(r, 5));
}

let t0: number;
if (flags.processes) {
  // Each child reports 'ready' once its pool, worker and LISTEN connection are up, then
  // its handler count; the clock starts when all are ready (not at fork: loading a
  // child takes seconds, and the first one up would drain alone meanwhile).
  const handledBy = new Map<ChildProcess, number>();
  const children: ChildProcess[] = [];
  await Promise.all(
    Array.from({ length: workers }, () => {
      const child = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'stepsWorker.ts'), [url, String(concurrency)], { execArgv: ['--import', 'tsx', '--conditions=@opsloop/source'] });
      children.push(child);
      child.on('message', (message: 'ready' | number) => {
        if (message === 'ready') return;
        handledBy.set(child, message);
        if ([...handledBy.values()].reduce((a, b) => a + b, 0) >= totalSteps) allHandled();
      });
      return new Promise<void>((resolve) => child.on('message', (message) => message === 'ready' && resolve()));
    }),
  );
  t0 = performance.now();
  children.forEach((c) => c.send('start'));
  await drained();
  await Promise.all(children.map((c) => new Promise((r) => (c.once('exit', r), c.send('stop')))));
} else {
  let handled = 0;
  const handlers = new Map<string, StepHandler>([
    [
      'ops.noop',
      async () => {
        if (++handled === totalSteps) allHandled();
        return null;
      },
    ],
  ]);
  const pool = Array.from({ length: workers }, () => createWorker({ deps: ops, handlers, concurrency, pollMs: 200 }));
  const listener = listenForSteps(db.url, logger, wakeOne(pool));
  await listener.ready;
  t0 = performance.now();
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
  // Phase 2 runs twice: right after the drain, while the claim's index still holds the
  // drained steps' dead entries, then after the heartbeat's vacuumQueues phase removed
  // them (as it, or a tuned autovacuum, does within minutes): the steady state.
  const afterBurst = await measureStartLatency();
  await vacuumQueues({ pool: db.pool, logger }, { deadRows: 0 });
  const steady = await measureStartLatency();
  latency = {
    start_latency_p50_ms: steady.p50,
    start_latency_p99_ms: steady.p99,
    start_latency_after_burst_p50_ms: afterBurst.p50,
    start_latency_after_burst_p99_ms: afterBurst.p99,
    latency_samples: steady.samples,
    create_proposal_p50_ms: steady.proposeP50,
    latency_note: 'enqueue (createProposal committed) to handler start; workers idle (previous step completed) and woken by NOTIFY',
  };
}
process.stdout.write(`${JSON.stringify({ ...throughput, ...latency, load_average_1m: Number(os.loadavg()[0]!.toFixed(2)) })}\n`);
await close();

/** Idle workers, one proposal at a time: enqueue to handler start. */
async function measureStartLatency() {
  // The handler reports its start through a promise, so the measuring loop sleeps
  // instead of spinning on a core PostgreSQL needs.
  let started: (at: number) => void = () => {};
  const latencyHandlers = new Map<string, StepHandler>([
    [
      'ops.noop',
      async () => {
        started(performance.now());
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
  // The first rounds pay for each pooled connection's first use (prepared statements,
  // the pick function's compilation): warm-up, not measured.
  const WARM_UP = 50;
  for (let i = 0; i < WARM_UP + 300; i++) {
    const start = new Promise<number>((resolve) => (started = resolve));
    const called = performance.now();
    await createProposal(ops, { title: 'latency', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: { note: String(i) } }] });
    // Enqueued = the proposal's statement committed and returned. NOTIFY is delivered at
    // commit, so a handler can start a hair before the caller sees the commit: that
    // counts as 0, not as a negative latency.
    const enqueued = performance.now();
    const startedAt = await start;
    // Idle workers for the next round: this step's completion committed and every slot
    // free again (otherwise the next enqueue races the previous completion).
    while (idle.some((w) => w.running() > 0)) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 2));
    if (i < WARM_UP) continue;
    proposeMs.push(enqueued - called);
    latencies.push(Math.max(0, startedAt - enqueued));
  }
  await Promise.all(idle.map((w) => w.stop(1000)));
  await listener.close();
  latencies.sort((a, b) => a - b);
  proposeMs.sort((a, b) => a - b);
  const ms = (n: number) => Number(n.toFixed(2));
  return { p50: ms(percentile(latencies, 50)), p99: ms(percentile(latencies, 99)), samples: latencies.length, proposeP50: ms(percentile(proposeMs, 50)) };
}

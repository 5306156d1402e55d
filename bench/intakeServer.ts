// Child process of intake.ts: the real app on a throwaway database, in its own process
// so the load generator does not share its CPU. Prints its URL, serves until killed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { createLogger, silentLogger, systemClock } from '@opsloop/core';
import { createOpsDeps } from '@opsloop/ops';
import { createApp } from '@opsloop/api';
import { benchDatabase } from './db.ts';

const token = process.argv[2]!;
const { db, close } = await benchDatabase(Number(process.env.BENCH_POOL_SIZE ?? 20));
const ops = createOpsDeps({ db, clock: systemClock, logger: process.env.BENCH_LOG ? createLogger({ level: process.env.BENCH_LOG }) : silentLogger(), timeZone: 'Asia/Tokyo' });
const logger = ops.logger;
const app = createApp({
  db,
  logger,
  config: { BODY_LIMIT: '1mb' },
  tokens: { apiToken: token, heartbeatToken: token },
  readiness: { notReadyReason: () => undefined },
  ops,
  heartbeat: { ...ops, pool: db.pool, heartbeatWindowMinutes: 15 },
});
// Where a tail comes from: event-loop stalls and GC pauses in this process, measured
// over the load only.
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
const gc = { count: 0, totalMs: 0, maxMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.count++;
    gc.totalMs += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });
const serverMs: number[] = [];
let cpuAtStart = process.cpuUsage();
let approvedAtStart = 0;
/** Start measuring now: after listening, and again after the warm-up. */
async function resetMeasurements() {
  approvedAtStart = await db.prisma.opsProposal.count({ where: { status: 'approved' } });
  cpuAtStart = process.cpuUsage();
  loopDelay.reset();
  loopDelay.enable();
  Object.assign(gc, { count: 0, totalMs: 0, maxMs: 0 });
  serverMs.length = 0;
}
const server = app.listen(0, '127.0.0.1', async () => {
  await resetMeasurements();
  process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
// Time inside this process, request arrival to response written: what the client's
// latency adds on top of it is queueing in the kernel and in the load generator.
server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
  const at = performance.now();
  res.once('finish', () => serverMs.push(performance.now() - at));
});
process.on('message', async (message) => {
  if (message === 'reset') {
    await resetMeasurements();
    return void process.send!('reset');
  }
  if (message !== 'report') return;
  // CPU this process spent serving the load: unlike throughput, barely moved by whatever
  // else the machine is running.
  const cpu = process.cpuUsage(cpuAtStart);
  const approved = (await db.prisma.opsProposal.count({ where: { status: 'approved' } })) - approvedAtStart;
  process.send!({
    approved,
    cpuMs: (cpu.user + cpu.system) / 1000,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
    gc,
    serverMs: serverMs.sort((a, b) => a - b),
  });
  server.close();
  await close();
  process.exit(0);
});

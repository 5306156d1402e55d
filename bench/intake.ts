// npm run bench:intake -- [seconds=10] [connections=50] [warm-up seconds=3]
// autocannon (this process) against POST /api/ops/proposal served by the real app in a
// child process (bench/intakeServer.ts) on a real database. The same load runs first for
// the warm-up, unmeasured: what a service that has been up for a while does (JIT-compiled
// code, every pooled connection opened with its statements prepared), not its first
// second. Every figure, the server's included, covers the measured run only.
// BENCH_LOG=info: the server writes its one line per request to stdout, as deployed
// (default: no log lines); BENCH_POOL_SIZE: its pool (default 20); BENCH_NODE_ARGS: node
// options for the server (e.g. "--max-semi-space-size=4", to weigh a heap setting).
import { fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { intakeLoad } from './intakeLoad.ts';
import { percentile } from './db.ts';

const [seconds = 10, connections = 50, warmUpSeconds = 3] = process.argv.slice(2).map(Number);
const token = 'bench-token-0123456789abcdefgh';
const child = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'intakeServer.ts'), [token], {
  execArgv: [
    '--import',
    'tsx',
    '--conditions=@opsloop/source',
    ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
    ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=.data/prof'] : []),
  ],
  stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
});
const base = await new Promise<string>((resolve, reject) => {
  child.stdout!.on('data', (chunk: Buffer) => {
    const match = /listening (\S+)/.exec(chunk.toString());
    if (match) resolve(match[1]!);
  });
  child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
});

const warmUp = warmUpSeconds > 0 ? await intakeLoad(base, token, warmUpSeconds, connections) : undefined;
child.send('reset');
await new Promise((resolve) => child.once('message', resolve));
const result = await intakeLoad(base, token, seconds, connections);
child.send('report');
interface Report {
  approved: number;
  cpuMs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  gc: { count: number; totalMs: number; maxMs: number };
  serverMs: number[];
}
const report = await new Promise<Report>((resolve) => child.once('message', (m) => resolve(m as Report)));
const { approved, cpuMs, serverMs, gc } = report;
const ms = (n: number) => Number(n.toFixed(1));
process.stdout.write(
  `${JSON.stringify({
    connections,
    warm_up_requests: warmUp?.requests.total ?? 0,
    seconds: result.duration,
    requests: result.requests.total,
    requests_per_second: Math.round(result.requests.average),
    non_2xx: result.non2xx,
    errors: result.errors,
    latency_ms: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    proposals_approved: approved,
    server_cpu_ms_per_request: Number((cpuMs / result.requests.total).toFixed(3)),
    server_latency_ms: { p50: ms(percentile(serverMs, 50)), p99: ms(percentile(serverMs, 99)), max: ms(serverMs.at(-1) ?? 0) },
    server_event_loop_delay_ms: { p99: ms(report.loopDelayP99Ms), max: ms(report.loopDelayMaxMs) },
    server_gc: { pauses: gc.count, total_ms: ms(gc.totalMs), max_ms: ms(gc.maxMs) },
    load_average_1m: Number(os.loadavg()[0]!.toFixed(2)),
  })}\n`,
);

// npm run bench:intake -- [seconds=10] [connections=50]
// autocannon (this process) against POST /api/ops/proposal served by the real app in a
// child process (bench/intakeServer.ts) on a real database.
import { fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { intakeLoad } from './intakeLoad.ts';

const [seconds = 10, connections = 50] = process.argv.slice(2).map(Number);
const token = 'bench-token-0123456789abcdefgh';
const child = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'intakeServer.ts'), [token], {
  execArgv: ['--import', 'tsx', '--conditions=@opsloop/source', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=.data/prof'] : [])],
  stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
});
const base = await new Promise<string>((resolve, reject) => {
  child.stdout!.on('data', (chunk: Buffer) => {
    const match = /listening (\S+)/.exec(chunk.toString());
    if (match) resolve(match[1]!);
  });
  child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
});

const result = await intakeLoad(base, token, seconds, connections);
child.send('report');
const { approved, cpuMs } = await new Promise<{ approved: number; cpuMs: number }>((resolve) => child.once('message', (m) => resolve(m as { approved: number; cpuMs: number })));
process.stdout.write(
  `${JSON.stringify({
    connections,
    seconds: result.duration,
    requests: result.requests.total,
    requests_per_second: Math.round(result.requests.average),
    non_2xx: result.non2xx,
    errors: result.errors,
    latency_ms: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    proposals_approved: approved,
    server_cpu_ms_per_request: Number((cpuMs / result.requests.total).toFixed(3)),
    load_average_1m: Number(os.loadavg()[0]!.toFixed(2)),
  })}\n`,
);

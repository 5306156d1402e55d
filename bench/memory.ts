// npm run bench:memory -- [seconds=10] [connections=50]
// RSS of the service started the way it is deployed: the compiled build (npm run build)
// started by railway.json's start command (plain node with its heap ceiling), API +
// scheduler + workers, on a throwaway database. Measured idle 5 s and 30 s after it is
// ready, then after the intake load of bench:intake (autocannon, POST /api/ops/proposal),
// then idle again after GC had a chance to run. It runs on the node that runs the bench:
// put the deployed major first in PATH to measure that.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { intakeLoad } from './intakeLoad.ts';
import { benchDatabase } from './db.ts';

const [seconds = 10, connections = 50] = process.argv.slice(2).map(Number);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// railway.json's start command: `node <options…> <entry>`.
const { startCommand } = JSON.parse(fs.readFileSync(path.join(root, 'railway.json'), 'utf8')).deploy as { startCommand: string };
const [, ...deployedArgs] = startCommand.split(' ');
const entry = deployedArgs.at(-1)!;
if (!fs.existsSync(path.join(root, entry))) throw new Error('no compiled build: run `npm run build` first');

const token = 'bench-token-0123456789abcdefgh';
const { url, close } = await benchDatabase(4);
const port = 20_000 + Math.floor(Math.random() * 20_000);
// BENCH_NODE_ARGS replaces the command's node options, to compare (e.g. "--enable-source-maps").
const args = process.env.BENCH_NODE_ARGS !== undefined ? [...process.env.BENCH_NODE_ARGS.split(' ').filter(Boolean), entry] : deployedArgs;
const child = spawn(process.execPath, args, {
  cwd: root,
  env: { PATH: process.env.PATH, NODE_ENV: 'production', DATABASE_URL: url, PORT: String(port), HOST: '127.0.0.1', OPS_API_TOKEN: token, HEARTBEAT_TOKEN: token, LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
const rssMb = (field: 'VmRSS' | 'VmHWM') => {
  const line = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`))!;
  return Math.round(Number(/(\d+)/.exec(line)![1]) / 1024);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (let i = 0; ; i++) {
  const ok = await fetch(`${base}/ready`).then((r) => r.ok, () => false);
  if (ok) break;
  if (i > 600) throw new Error('service did not become ready');
  await sleep(100);
}
await sleep(5000);
const idle = rssMb('VmRSS');
// Both readings are reported: just after start-up, and idle for 30 s, the state a
// deployment spends most of its time in. Between them V8's memory reducer runs (8–16 s
// after ready), which gives back 15–19 MB unless the service already did
// (releaseStartupMemory, which needs the start command's --expose-gc).
await sleep(25_000);
const idleSettled = rssMb('VmRSS');

const result = await intakeLoad(base, token, seconds, connections);
const afterLoad = rssMb('VmRSS');
const peak = rssMb('VmHWM');
await sleep(10_000); // the in-process worker drains the missions the load created
const settled = rssMb('VmRSS');
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await close();
process.stdout.write(
  `${JSON.stringify({
    rss_idle_mb: idle,
    rss_idle_30s_mb: idleSettled,
    rss_after_intake_mb: afterLoad,
    rss_peak_mb: peak,
    rss_settled_mb: settled,
    intake_requests: result.requests.total,
    intake_non_2xx: result.non2xx,
    load_average_1m: Number(os.loadavg()[0]!.toFixed(2)),
  })}\n`,
);

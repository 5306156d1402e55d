// Starts opsloop the way it is deployed (the compiled build, as `npm start` or plain
// `node`), in its own process group, and drives it from outside: load, signals, exit.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../../../..');
export const API_TOKEN = 'process-test-api-token-0123456789';

/** Compiles dist/ once (no-op when fresh); the deployed process runs nothing else. */
export function buildOnce(cwd = ROOT): void {
  const result = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`build failed: ${result.stderr}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface DeployedProcess {
  child: ChildProcess;
  /** The process group (= the child's pid: it leads its group). */
  pgid: number;
  url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

const started = new Set<DeployedProcess>();

/**
 * For afterAll: a test that failed half-way must not leave its service (and the embedded
 * cluster it owns) running. SIGTERM lets it stop its cluster; SIGKILL if it will not.
 */
export async function stopLeftovers(): Promise<void> {
  for (const proc of started) {
    if (proc.child.exitCode === null && proc.child.signalCode === null) {
      process.kill(-proc.pgid, 'SIGTERM');
      const gone = await Promise.race([proc.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20_000))]);
      if (!gone && groupAlive(proc.pgid)) process.kill(-proc.pgid, 'SIGKILL');
    }
    started.delete(proc);
  }
}

export async function startDeployed(o: { how: 'npm start' | 'node'; env: Record<string, string>; cwd?: string }): Promise<DeployedProcess> {
  const port = await freePort();
  // The suite's NODE_OPTIONS point workspace imports at TypeScript sources; a deployed
  // process runs the compiled dist/ and must not inherit that.
  const env: Record<string, string | undefined> = { ...process.env, NODE_OPTIONS: undefined, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(port), OPS_API_TOKEN: API_TOKEN, HEARTBEAT_TOKEN: `${API_TOKEN}-hb`, ...o.env };
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'TEST') delete env[key];
  const [command, args] = o.how === 'npm start' ? ['npm', ['start', '--silent']] : [process.execPath, ['--enable-source-maps', 'apps/api/dist/main.js']];
  // detached: a process group of its own, like a terminal's foreground job (Ctrl-C goes
  // to the whole group) or a container's PID 1.
  const child = spawn(command as string, args as string[], { cwd: o.cwd ?? ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    const status = await fetch(`${url}/ready`).then((r) => r.status, () => 0);
    if (status === 200) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      throw new Error(`service did not become ready (exit ${child.exitCode}):\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const proc = { child, pgid: child.pid!, url, output: () => out, exited };
  started.add(proc);
  return proc;
}

/** Whether any process of the group is still alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The postmaster's pid of a data directory, from postmaster.pid. */
export function postmasterPid(dataDir: string): number | undefined {
  const text = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), { encoding: 'utf8', flag: 'r' });
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) ? pid : undefined;
}

export interface Load {
  statuses: Map<number, number>;
  networkErrors: number;
  stop(): Promise<void>;
}

/**
 * `clients` concurrent loops proposing multi-step missions of ops.noop: short steps
 * finish within the grace period, `longStepMs` steps outlive it and must be released.
 */
export function proposeContinuously(url: string, o: { clients: number; longStepMs: number }): Load {
  const statuses = new Map<number, number>();
  let networkErrors = 0;
  let running = true;
  let n = 0;
  const client = async (id: number) => {
    while (running) {
      const i = n++;
      const steps =
        i % 10 === 0
          ? [{ kind: 'ops.noop', params: { sleep_ms: o.longStepMs } }, { kind: 'ops.noop', params: {} }]
          : [{ kind: 'ops.noop', params: { sleep_ms: 50 } }, { kind: 'ops.noop', params: { sleep_ms: 100 } }, { kind: 'ops.noop', params: {} }];
      try {
        const res = await fetch(`${url}/api/ops/proposal`, {
          method: 'POST',
          headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ title: `load ${id}/${i}`, skill: 'ops_internal', proposedBy: `client-${id}`, dedupeKey: `load-${process.pid}-${Date.now()}-${i}`, steps }),
          signal: AbortSignal.timeout(20_000),
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      } catch {
        networkErrors++; // refused or reset while draining / after exit: never a 5xx
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const loops = Array.from({ length: o.clients }, (_, id) => client(id));
  return {
    statuses,
    get networkErrors() {
      return networkErrors;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

export function count5xx(statuses: Map<number, number>): number {
  return [...statuses].filter(([s]) => s >= 500).reduce((a, [, c]) => a + c, 0);
}

// Acceptance: the deployed process (compiled build) stops cleanly however it is stopped,
// under load: 20 clients proposing, the in-process worker running multi-step missions.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@opsloop/core';
import { startEmbeddedPostgres } from '@opsloop/db';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { buildOnce, count5xx, freePort, groupAlive, pidAlive, postmasterPid, proposeContinuously, startDeployed, type DeployedProcess, stopLeftovers } from './process/deployedProcess.ts';

const GRACE_MS = 3000;
const LONG_STEP_MS = 15_000; // outlives the grace period: must be released, not lost
const env = { SHUTDOWN_GRACE_MS: String(GRACE_MS), SCHEDULER_ENABLED: 'false', WORKER_CONCURRENCY: '4', WORKER_POLL_MS: '200', LOG_LEVEL: 'info' };

beforeAll(() => buildOnce(), 120_000);
afterAll(() => stopLeftovers(), 60_000);

function runningSteps(pool: pg.Pool): () => Promise<number> {
  return async () =>
    (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ops_mission_steps WHERE status = 'running' AND (params->>'sleep_ms')::int = $1`, [LONG_STEP_MS])).rows[0]!.n;
}

async function stopUnderLoad(proc: DeployedProcess, send: () => void, running: () => Promise<number>) {
  const load = proposeContinuously(proc.url, { clients: 20, longStepMs: LONG_STEP_MS });
  try {
    const deadline = Date.now() + 30_000;
    // Wait until the worker is busy with a long step (every tenth mission) among others.
    while ((await running()) < 1 || (load.statuses.get(201) ?? 0) < 30) {
      if (Date.now() > deadline) throw new Error(`the worker never got busy:\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const signalledAt = Date.now();
    send();
    const exit = await Promise.race([proc.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit within grace + 10 s:\n${proc.output()}`)), GRACE_MS + 10_000))]);
    return { exit, elapsedMs: exit.at - signalledAt, load };
  } finally {
    await load.stop();
  }
}

async function assertSettled(pool: pg.Pool, output: string) {
  const { rows } = await pool.query<{ running: number; open: number; released: number; succeeded: number }>(`
    SELECT (SELECT count(*)::int FROM ops_mission_steps WHERE status = 'running') AS running,
           (SELECT count(*)::int FROM ops_step_runs WHERE finished_at IS NULL) AS open,
           (SELECT count(*)::int FROM ops_step_runs WHERE outcome = 'released') AS released,
           (SELECT count(*)::int FROM ops_step_runs WHERE outcome = 'succeeded') AS succeeded`);
  expect(rows[0]).toMatchObject({ running: 0, open: 0 });
  const outcomes = await pool.query(`SELECT outcome, kind, count(*)::int FROM ops_step_runs GROUP BY 1, 2`);
  expect(rows[0]!.released, JSON.stringify(outcomes.rows) + output.split("\n").filter((l) => !l.includes("POST /api")).join("\n")).toBeGreaterThan(0); // long steps were aborted and handed back
  expect(rows[0]!.succeeded).toBeGreaterThan(0);
}

describe.each(['npm start', 'node'] as const)('SIGTERM to the %s process (external database)', (how) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('drains within the grace period: exit 0, no 5xx, no step running, no open run row, nothing left behind', async () => {
    const proc = await startDeployed({ how, env: { ...env, DATABASE_URL: db.url, WORKERS_ENABLED: 'true' } });
    const { exit, elapsedMs, load } = await stopUnderLoad(proc, () => process.kill(proc.child.pid!, 'SIGTERM'), runningSteps(db.pool));
    expect(exit.code, proc.output()).toBe(0);
    expect(elapsedMs).toBeLessThan(GRACE_MS + 10_000);
    expect(count5xx(load.statuses), JSON.stringify([...load.statuses])).toBe(0);
    expect(load.statuses.get(201) ?? 0).toBeGreaterThan(20);
    expect(groupAlive(proc.pgid), 'a process of the group survived').toBe(false);
    expect(proc.output()).toContain('shutdown complete');
    await assertSettled(db.pool, proc.output());
  }, 120_000);
});

describe('Ctrl-C (SIGINT to the whole process group) on the embedded database', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'opsloop-ctrlc-'));
    await fs.chmod(dataDir, 0o755); // mkdtemp's 700 would send a root run's cluster elsewhere
  });
  afterAll(async () => {
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('PostgreSQL outlives the drain and stops last; after a restart nothing is running or open', async () => {
    const pgPort = await freePort();
    // DATA_DIR does not exist yet (a fresh clone's .data): created in place, never relocated.
    const clusterDir = path.join(dataDir, 'data', 'postgres');
    const proc = await startDeployed({ how: 'npm start', env: { ...env, DATA_DIR: path.join(dataDir, 'data'), EMBEDDED_PG_PORT: String(pgPort) } });
    const postgres = postmasterPid(clusterDir)!;
    const url = `postgresql://postgres:postgres@127.0.0.1:${pgPort}/opsloop`;
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on('error', () => {});
    let result;
    try {
      result = await stopUnderLoad(proc, () => process.kill(-proc.pgid, 'SIGINT'), runningSteps(pool));
    } finally {
      await pool.end();
    }
    const { exit, elapsedMs, load } = result;
    expect(exit.code, proc.output()).toBe(0);
    expect(elapsedMs).toBeLessThan(GRACE_MS + 10_000);
    expect(count5xx(load.statuses), JSON.stringify([...load.statuses])).toBe(0);
    expect(groupAlive(proc.pgid)).toBe(false);
    expect(pidAlive(postgres), 'embedded postgres left running').toBe(false);
    expect(proc.output()).not.toMatch(/second signal/);

    const restarted = await startEmbeddedPostgres({ dataDir: clusterDir, port: pgPort, logger: silentLogger() });
    const check = new pg.Pool({ connectionString: restarted.url, max: 1 });
    try {
      await assertSettled(check, proc.output());
    } finally {
      await check.end();
      await restarted.stop();
    }
  }, 180_000);
});

import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '@opsloop/core';
import { createProposal, createWorker } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { HEARTBEAT_TOKEN, startTestApp, type TestApp } from '../../../test/app.ts';

let db: TestDatabase;
let app: TestApp;
beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db, { clock: systemClock });
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('stale step recovery', () => {
  it('a worker SIGKILLed mid-step: after its lease expires the heartbeat requeues the step and the mission completes, run once at a time', async () => {
    const { proposal } = await createProposal(app.ops, { title: 'survive a kill', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }, { kind: 'ops.noop', params: {} }] });
    const missionId = proposal!.missionId!;

    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('apps/api/test/fixtures/hangingWorker.ts'), db.url], { stdio: ['ignore', 'pipe', 'inherit'] });
    const stepId = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const match = /started (\S+)/.exec(chunk.toString());
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
    });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;

    // Before the lease runs out the heartbeat leaves the step alone...
    const early = await app.raw.post('/api/ops/heartbeat').set('Authorization', `Bearer ${HEARTBEAT_TOKEN}`);
    expect(early.body.phases.find((p: { name: string }) => p.name === 'recoverStaleSteps').result).toEqual({ recovered: 0 });
    // ...and recovers it once it has (lease: 5 s, renewed while the worker lived).
    await expect
      .poll(
        async () => {
          const res = await app.raw.post('/api/ops/heartbeat').set('Authorization', `Bearer ${HEARTBEAT_TOKEN}`);
          return res.body.phases.find((p: { name: string }) => p.name === 'recoverStaleSteps').result.recovered;
        },
        { timeout: 15_000, interval: 250 },
      )
      .toBe(1);
    expect(await db.prisma.opsEvent.count({ where: { kind: 'step:recovered', stepId } })).toBe(1);

    // The retry is due after the backoff; a healthy worker then finishes the mission.
    await db.pool.query(`UPDATE ops_mission_steps SET run_after = now() WHERE id = $1`, [stepId]);
    const worker = createWorker({ deps: app.ops, handlers: new Map([['ops.noop', async () => 'ok']]), concurrency: 2, pollMs: 50 });
    worker.start();
    try {
      await expect.poll(async () => (await db.prisma.opsMission.findUniqueOrThrow({ where: { id: missionId } })).status, { timeout: 10_000 }).toBe('succeeded');
    } finally {
      await worker.stop(1000);
    }
    const runs = await db.prisma.opsStepRun.findMany({ where: { stepId }, orderBy: { id: 'asc' } });
    expect(runs.map((r) => r.outcome)).toEqual(['lost', 'succeeded']);
    // Never two attempts at once: the second began after the first was closed.
    expect(runs[1]!.startedAt.getTime()).toBeGreaterThanOrEqual(runs[0]!.finishedAt!.getTime());
    expect(await db.prisma.opsStepRun.count({ where: { missionId } })).toBe(3);
  }, 40_000);
});

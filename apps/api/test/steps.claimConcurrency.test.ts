import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProposal } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { noopProposal, startTestApp, type TestApp } from '../../../test/app.ts';

let db: TestDatabase;
let app: TestApp;
beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 30 });
  app = await startTestApp(db);
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('claiming steps', () => {
  it('8 workers claiming 500 steps over HTTP execute each step exactly once', async () => {
    for (let i = 0; i < 500; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => createProposal(app.ops, noopProposal({ title: `m${i + j}` }))));
    }
    expect(await db.prisma.opsMissionStep.count({ where: { status: 'queued' } })).toBe(500);

    const executed: string[] = [];
    const worker = async (workerId: string) => {
      for (;;) {
        const claim = await app.api.post('/api/ops/steps/claim', { workerId, kinds: ['ops.noop'], max: 7, leaseSeconds: 60 });
        expect(claim.status).toBe(200);
        if (claim.body.steps.length === 0) return;
        for (const step of claim.body.steps) {
          executed.push(step.id);
          const done = await app.api.post(`/api/ops/steps/${step.id}/complete`, { leaseToken: step.leaseToken, result: { by: workerId } });
          expect(done.status).toBe(200);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, i) => worker(`w${i}`)));

    expect(executed).toHaveLength(500);
    expect(new Set(executed).size).toBe(500);
    const runs = await db.pool.query<{ n: number; steps: number }>(`SELECT count(*)::int AS n, count(DISTINCT step_id)::int AS steps FROM ops_step_runs`);
    expect(runs.rows[0]).toEqual({ n: 500, steps: 500 });
    expect(await db.prisma.opsMission.count({ where: { status: 'succeeded' } })).toBe(500);
    const perWorker = await db.pool.query<{ worker_id: string }>(`SELECT DISTINCT worker_id FROM ops_step_runs`);
    expect(perWorker.rows.length).toBeGreaterThan(1);
  });
});

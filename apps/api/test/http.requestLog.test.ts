import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { HEARTBEAT_TOKEN, startTestApp, type TestApp } from '../../../test/app.ts';

let db: TestDatabase;
let app: TestApp;
beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db);
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

function linesFor(requestId: string) {
  return app
    .logs()
    .split('\n')
    .filter((l) => l.includes(requestId))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('request log', () => {
  it('one line per request: method, path, status, duration, request id; no headers', async () => {
    await app.api.get('/api/ops/missions?limit=5').set('x-request-id', 'req-ok-1').expect(200);
    await expect.poll(() => linesFor('req-ok-1')).toHaveLength(1);
    const [line] = linesFor('req-ok-1');
    expect(line).toMatchObject({ level: 30, requestId: 'req-ok-1', method: 'GET', path: '/api/ops/missions?limit=[redacted]', status: 200, msg: 'GET /api/ops/missions?limit=[redacted] 200' });
    expect(line!.durationMs).toEqual(expect.any(Number));
    expect(JSON.stringify(line)).not.toMatch(/headers|authorization|Bearer/i);
  });

  it('a failed request is one line carrying its error; credentials in the query or X-Auth-Token never appear', async () => {
    await app.raw.get('/api/ops/events?token=query-secret-123&kind=x').set('x-auth-token', 'header-secret-456').set('x-request-id', 'req-401-1').expect(401);
    await app.api.post('/api/ops/proposal', { title: '' }).set('x-request-id', 'req-400-1').expect(400);
    await expect.poll(() => linesFor('req-400-1')).toHaveLength(1);
    expect(linesFor('req-401-1')).toEqual([
      expect.objectContaining({ level: 40, status: 401, path: '/api/ops/events?token=[redacted]&kind=[redacted]', error: expect.objectContaining({ code: 'unauthorized' }) }),
    ]);
    expect(linesFor('req-400-1')).toEqual([expect.objectContaining({ level: 40, status: 400, error: expect.objectContaining({ code: 'validation_failed' }) })]);
    expect(app.logs()).not.toContain('query-secret-123');
    expect(app.logs()).not.toContain('header-secret-456');
  });
});

describe('heartbeat log', () => {
  it('every heartbeat writes one summary line with each phase outcome', async () => {
    const res = await app.raw.post('/api/ops/heartbeat').set('Authorization', `Bearer ${HEARTBEAT_TOKEN}`).expect(200);
    const summaries = () =>
      app
        .logs()
        .split('\n')
        .filter((l) => l.includes('"msg":"heartbeat '))
        .map((l) => JSON.parse(l) as { runId: number; status: string; phases: Record<string, string> });
    await expect.poll(summaries).toHaveLength(1);
    const [line] = summaries();
    expect(line!.runId).toBe(res.body.runId);
    expect(Object.keys(line!.phases)).toEqual(res.body.phases.map((p: { name: string }) => p.name));
    for (const outcome of Object.values(line!.phases)) expect(outcome).toMatch(/^(ok \d+ms|failed \d+ms: .+)$/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { API_TOKEN, noopProposal, rowCounts, startTestApp, type TestApp } from '../../../test/app.ts';

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

describe('HTTP error format', () => {
  it('answers a malformed JSON body with 400 invalid_json', async () => {
    const res = await app.raw
      .post('/api/ops/proposal')
      .set('Authorization', `Bearer ${API_TOKEN}`)
      .set('Content-Type', 'application/json')
      .send('{"title": ');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_json' });
    expect(res.body.error.requestId).toEqual(expect.any(String));
  });

  it('answers a non-JSON content type with 415', async () => {
    const res = await app.raw.post('/api/ops/proposal').set('Authorization', `Bearer ${API_TOKEN}`).set('Content-Type', 'text/plain').send('hello');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('answers a 2 MB body with 413 and stores nothing', async () => {
    const before = await rowCounts(db);
    const res = await app.api.post('/api/ops/proposal', noopProposal({ title: 'x'.repeat(2 * 1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect(await rowCounts(db)).toEqual(before);
  });

  it('answers a missing or wrong token with 401 and never logs the token', async () => {
    const missing = await app.raw.post('/api/ops/proposal').send(noopProposal());
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ error: { code: 'unauthorized', message: 'Missing or invalid bearer token', requestId: expect.any(String) } });
    const wrongToken = 'wrong-token-that-must-not-be-logged';
    const wrong = await app.raw.post('/api/ops/proposal').set('Authorization', `Bearer ${wrongToken}`).send(noopProposal());
    expect(wrong.status).toBe(401);
    await app.api.get('/api/ops/proposals');
    const logs = app.logs();
    expect(logs).toContain('"status":401');
    expect(logs).not.toContain(wrongToken);
    expect(logs).not.toContain(API_TOKEN);
  });

  it('answers unknown routes with 404 JSON', async () => {
    const res = await app.raw.get('/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('answers 400 with the paths of every wrong field', async () => {
    const res = await app.api.post('/api/ops/proposal', { title: 42, skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }], extra: 1 });
    expect(res.status).toBe(400);
    const paths = res.body.error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['title', '(root)']));
    const q = await app.api.get('/api/ops/proposals?limit=0&status=nope');
    expect(q.status).toBe(400);
    expect(q.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['query.limit', 'query.status']);
  });

  it('serves /health and /ready', async () => {
    expect((await app.raw.get('/health')).body).toEqual({ status: 'ok' });
    const ready = await app.raw.get('/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.migrations.upToDate).toBe(true);
  });
});

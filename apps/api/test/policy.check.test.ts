import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { rowCounts, startTestApp, type TestApp } from '../../../test/app.ts';

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

describe("POST /api/ops/policy/:key/check: the key's schema, nothing saved", () => {
  it('answers the stored form and the changes of a valid value, a 400 per wrong field otherwise, and writes nothing', async () => {
    const before = await rowCounts(db);
    const ok = await app.api.post('/api/ops/policy/daily_quotas/check', { value: { 'x.post': 7, 'tiktok.post': 3, 'ops.diagnose_failures': 24 } }).expect(200);
    expect(ok.body).toMatchObject({ key: 'daily_quotas', valid: true, changes: [{ path: 'x.post', kind: 'changed', before: 10, after: 7 }] });

    const bad = await app.api.post('/api/ops/policy/daily_quotas/check', { value: { 'x.post': 'ten' } }).expect(400);
    expect(bad.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['value.x.post']);
    await app.api.post('/api/ops/policy/no_such_key/check', { value: {} }).expect(400);

    expect(await rowCounts(db)).toEqual(before);
    expect((await app.api.get('/api/ops/policy')).body.items.find((p: { key: string }) => p.key === 'daily_quotas').value['x.post']).toBe(10);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { startTestApp, type TestApp } from '../../../test/app.ts';

// The phased rollout of README "Registered step kinds and skills", with the same SQL and
// API calls: x-poster -> tiktok-poster -> trend-hunter and suffering-detector -> app-nudge-sender.
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

const proposals = {
  x: { title: 'Post', skill: 'x_autopost', steps: [{ kind: 'x.post', params: { text: 'We are live.' } }] },
  tiktok: { title: 'Clip', skill: 'tiktok_autopost', steps: [{ kind: 'tiktok.post', params: { caption: 'Launch', video_url: 'https://cdn.example.com/launch.mp4' } }] },
  trends: { title: 'Trends', skill: 'trend_hunter', steps: [{ kind: 'trends.scan', params: { topics: ['agents'] } }] },
  suffering: { title: 'Signals', skill: 'suffering_detector', steps: [{ kind: 'suffering.scan', params: {} }] },
  nudge: { title: 'Nudge', skill: 'app_nudge', steps: [{ kind: 'app.nudge', params: { audience: 'trial-day-3', message: 'Need a hand?' } }] },
};
const statusOf = async (p: object) => {
  const res = await app.api.post('/api/ops/proposal', p);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.status as string;
};

describe('the seeds phased rollout, with SQL and API calls only', () => {
  it('phase 1: x-poster is on and every post waits for a person; the later skills are off', async () => {
    expect(await statusOf(proposals.x)).toBe('pending');
    for (const p of [proposals.tiktok, proposals.trends, proposals.suffering, proposals.nudge]) expect(await statusOf(p)).toBe('rejected');
  });

  it('phase 2: tiktok-poster, turned on with one SQL statement', async () => {
    await db.pool.query(`UPDATE ops_policy SET value = jsonb_set(value, '{enabled}', 'true') WHERE key = 'tiktok_autopost'`);
    expect(await statusOf(proposals.tiktok)).toBe('pending');
  });

  it('phase 3: trend-hunter and suffering-detector, on and auto-approved through the API; an executor runs a scan', async () => {
    for (const key of ['trend_hunter', 'suffering_detector']) expect((await app.api.put(`/api/ops/policy/${key}`, { value: { enabled: true } })).status).toBe(200);
    const auto = (await app.api.get('/api/ops/policy')).body.items.find((p: { key: string }) => p.key === 'auto_approve').value;
    const put = await app.api.put('/api/ops/policy/auto_approve', { value: { ...auto, step_kinds: [...auto.step_kinds, 'trends.scan', 'suffering.scan'] } });
    expect(put.status).toBe(200);
    expect(await statusOf(proposals.trends)).toBe('approved');
    expect(await statusOf(proposals.suffering)).toBe('approved');
    const claim = await app.api.post('/api/ops/steps/claim', { workerId: 'scanner-1', kinds: ['trends.scan', 'suffering.scan'], max: 5, leaseSeconds: 60 });
    expect(claim.body.steps.map((s: { kind: string }) => s.kind).sort()).toEqual(['suffering.scan', 'trends.scan']);
    expect(claim.body.steps.find((s: { kind: string }) => s.kind === 'suffering.scan').params).toEqual({ window_hours: 24 });
    for (const s of claim.body.steps) expect((await app.api.post(`/api/ops/steps/${s.id}/complete`, { leaseToken: s.leaseToken, result: { found: 0 } })).status).toBe(200);
  });

  it('phase 4: app-nudge-sender, its kind re-registered through the API, its skill on by SQL, capped by a quota', async () => {
    // A deployment that removed the seeded kind (or a new agent) registers it again.
    const current = (await app.api.get('/api/ops/catalog/kinds/app.nudge')).body.kind;
    expect((await app.api.delete('/api/ops/catalog/kinds/app.nudge')).status).toBe(204);
    const registered = await app.api.post('/api/ops/catalog/kinds', { name: 'app.nudge', skill: 'app_nudge', description: current.description, maxAttempts: 5, paramsSchema: current.params });
    expect(registered.status).toBe(201);
    await db.pool.query(`UPDATE ops_policy SET value = '{"enabled": true}' WHERE key = 'app_nudge'`);
    const quotas = (await app.api.get('/api/ops/policy')).body.items.find((p: { key: string }) => p.key === 'daily_quotas').value;
    expect((await app.api.put('/api/ops/policy/daily_quotas', { value: { ...quotas, 'app.nudge': 1 } })).status).toBe(200);

    const bad = await app.api.post('/api/ops/proposal', { ...proposals.nudge, steps: [{ kind: 'app.nudge', params: { audience: 'all' } }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues).toEqual([{ path: 'steps.0.params.message', message: 'is required' }]);
    const first = await app.api.post('/api/ops/proposal', proposals.nudge);
    expect(first.body.status).toBe('pending');
    expect((await app.api.post(`/api/ops/proposals/${first.body.proposal.id}/approve`, {})).body.status).toBe('approved');
    const second = await app.api.post('/api/ops/proposal', proposals.nudge);
    const decided = await app.api.post(`/api/ops/proposals/${second.body.proposal.id}/approve`, {});
    expect(decided.body).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/daily quota for app.nudge exceeded/) });
    const claim = await app.api.post('/api/ops/steps/claim', { workerId: 'nudger', kinds: ['app.nudge'], max: 5, leaseSeconds: 60 });
    expect(claim.body.steps).toMatchObject([{ kind: 'app.nudge', maxAttempts: 5 }]);
  });

  it('rollback: one SQL statement turns a skill off again', async () => {
    await db.pool.query(`UPDATE ops_policy SET value = jsonb_set(value, '{enabled}', 'false') WHERE key = 'tiktok_autopost'`);
    expect(await statusOf(proposals.tiktok)).toBe('rejected');
  });
});

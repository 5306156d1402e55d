import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { noopProposal, rowCounts, startTestApp, type TestApp } from '../../../test/app.ts';

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
beforeEach(async () => {
  await db.pool.query(`TRUNCATE ops_proposals, ops_missions, ops_mission_steps, ops_step_runs, ops_events CASCADE`);
});

const setPolicy = (key: string, value: unknown) => db.pool.query(`UPDATE ops_policy SET value = $2 WHERE key = $1`, [key, JSON.stringify(value)]);

describe('dedupe keys', () => {
  it('50 concurrent identical proposals make one proposal and one mission', async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => app.api.post('/api/ops/proposal', noopProposal({ dedupeKey: 'cycle-2026-11-23T10:00' }))),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(49);
    expect(new Set(responses.map((r) => r.body.proposal.id)).size).toBe(1);
    expect(new Set(responses.map((r) => r.body.missionId)).size).toBe(1);
    expect(await db.prisma.opsProposal.count()).toBe(1);
    expect(await db.prisma.opsMission.count()).toBe(1);
    expect(await db.prisma.opsEvent.count({ where: { kind: 'proposal:created' } })).toBe(1);
  });
});

describe('cap gates', () => {
  it('quota 10 against 50 concurrent proposals approves exactly 10 and rejects 40 with a reason', async () => {
    await setPolicy('daily_quotas', { 'ops.noop': 10 });
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => app.api.post('/api/ops/proposal', noopProposal({ title: `p${i}` }))));
    expect(responses.every((r) => r.status === 201)).toBe(true);
    const approved = responses.filter((r) => r.body.status === 'approved');
    const rejected = responses.filter((r) => r.body.status === 'rejected');
    expect(approved).toHaveLength(10);
    expect(rejected).toHaveLength(40);
    expect(rejected[0]!.body.reason).toMatch(/daily quota for ops\.noop exceeded \(10 of 10 used today/);
    expect(await db.prisma.opsMissionStep.count({ where: { kind: 'ops.noop' } })).toBe(10);
    expect(await db.prisma.opsEvent.count({ where: { kind: 'quota:exceeded' } })).toBe(40);
    await setPolicy('daily_quotas', {});
  });
});

describe('skill gates and the kill switch', () => {
  it('a skill toggled off with plain SQL rejects the next proposal; toggled on approves the next', async () => {
    await setPolicy('ops_internal', { enabled: false });
    const off = await app.api.post('/api/ops/proposal', noopProposal());
    expect(off.body).toMatchObject({ status: 'rejected', missionId: null });
    expect(off.body.reason).toMatch(/skill ops_internal is disabled/);

    await setPolicy('ops_internal', { enabled: true });
    const on = await app.api.post('/api/ops/proposal', noopProposal());
    expect(on.body.status).toBe('approved');
  });

  it('tiktok_autopost is off by default and passes its gate once switched on (then waits for a person)', async () => {
    const body = { title: 'clip', skill: 'tiktok_autopost', steps: [{ kind: 'tiktok.post', params: { caption: 'hi', video_url: 'https://example.com/v.mp4' } }] };
    expect((await app.api.post('/api/ops/proposal', body)).body.status).toBe('rejected');
    await setPolicy('tiktok_autopost', { enabled: true });
    expect((await app.api.post('/api/ops/proposal', body)).body.status).toBe('pending');
    await setPolicy('tiktok_autopost', { enabled: false });
  });

  it('with the kill switch off nothing is approved or claimed; proposals wait as pending', async () => {
    await setPolicy('system_enabled', { enabled: false });
    const res = await app.api.post('/api/ops/proposal', noopProposal());
    expect(res.body).toMatchObject({ status: 'pending', missionId: null });
    expect((await app.api.post(`/api/ops/proposals/${res.body.proposal.id}/approve`, {})).status).toBe(409);

    await setPolicy('system_enabled', { enabled: true });
    const queued = await app.api.post('/api/ops/proposal', noopProposal());
    await setPolicy('system_enabled', { enabled: false });
    const claim = await app.api.post('/api/ops/steps/claim', { workerId: 'w', kinds: ['ops.noop'] });
    expect(claim.body.steps).toEqual([]);
    await setPolicy('system_enabled', { enabled: true });
    const claimed = await app.api.post('/api/ops/steps/claim', { workerId: 'w', kinds: ['ops.noop'] });
    expect(claimed.body.steps[0].missionId).toBe(queued.body.missionId);
  });

  it('an invalid policy value written by hand is reported and the last valid value stays in force', async () => {
    expect((await app.api.post('/api/ops/proposal', noopProposal())).body.status).toBe('approved');
    await setPolicy('ops_internal', { enabld: false });
    expect((await app.api.post('/api/ops/proposal', noopProposal())).body.status).toBe('approved');
    await expect.poll(() => db.prisma.opsEvent.count({ where: { kind: 'policy:invalid' } })).toBe(1);
    await setPolicy('ops_internal', { enabled: true });
  });
});

describe('bad input changes nothing', () => {
  const cases: [string, object, string[]][] = [
    ['wrong types', { title: 1, skill: 'ops_internal', steps: 'x' }, ['title', 'steps']],
    ['unknown step kind', noopProposal({ steps: [{ kind: 'ops.noop' }, { kind: 'rocket.launch', params: {} }] }), ['steps.1.kind']],
    ['21 steps', noopProposal({ steps: Array.from({ length: 21 }, () => ({ kind: 'ops.noop', params: {} })) }), ['steps']],
    ['oversized params', noopProposal({ steps: [{ kind: 'ops.noop', params: { note: 'x'.repeat(20_000) } }] }), ['steps.0.params']],
    ['params failing their kind schema', noopProposal({ skill: 'x_autopost', steps: [{ kind: 'x.post', params: { text: 'x'.repeat(281) } }] }), ['steps.0.params.text']],
    ['unknown skill', noopProposal({ skill: 'nope' }), ['skill']],
  ];
  it.each(cases)('%s -> 400 with paths, no rows', async (_name, body, paths) => {
    const before = await rowCounts(db);
    const res = await app.api.post('/api/ops/proposal', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(paths));
    expect(await rowCounts(db)).toEqual(before);
  });

  it('unknown policy keys and wrong shapes -> 400 and change nothing', async () => {
    const before = await rowCounts(db);
    const policyBefore = await db.pool.query('SELECT key, value FROM ops_policy ORDER BY key');
    const unknown = await app.api.put('/api/ops/policy/not_a_key', { value: { enabled: true } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.issues[0].path).toBe('params.key');
    const wrong = await app.api.put('/api/ops/policy/daily_quotas', { value: { 'x.post': 'ten' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.issues[0].path).toBe('value.x.post');
    expect(await rowCounts(db)).toEqual(before);
    expect((await db.pool.query('SELECT key, value FROM ops_policy ORDER BY key')).rows).toEqual(policyBefore.rows);
  });

  it('a valid policy change is stored with a policy:changed event holding old and new values', async () => {
    await setPolicy('daily_quotas', { 'x.post': 10 });
    const res = await app.api.put('/api/ops/policy/daily_quotas', { value: { 'x.post': 5 }, changedBy: 'ops-lead' });
    expect(res.status).toBe(200);
    const event = await db.prisma.opsEvent.findFirstOrThrow({ where: { kind: 'policy:changed' } });
    expect(event.payload).toMatchObject({ key: 'daily_quotas', new: { 'x.post': 5 }, changedBy: 'ops-lead' });
    expect((event.payload as { old: object }).old).toHaveProperty(['x.post'], 10);
    const list = await app.api.get('/api/ops/policy');
    expect(list.body.items.find((p: { key: string }) => p.key === 'daily_quotas')).toMatchObject({ value: { 'x.post': 5 }, valid: true });
  });
});

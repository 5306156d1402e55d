import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { startTestApp, type TestApp } from '../../../test/app.ts';

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

describe('the closed loop over HTTP', () => {
  it('propose -> auto-approve -> external worker claims, heartbeats, completes each step in order -> mission succeeded', async () => {
    const created = await app.api.post('/api/ops/proposal', {
      title: 'Two-step work',
      skill: 'ops_internal',
      proposedBy: 'openclaw-gateway',
      steps: [
        { kind: 'ops.noop', params: { note: 'first' } },
        { kind: 'ops.noop', params: { note: 'second' } },
      ],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'approved', reason: 'auto-approved by policy', missionId: expect.any(String) });
    const missionId = created.body.missionId as string;

    for (const note of ['first', 'second']) {
      const claim = await app.api.post('/api/ops/steps/claim', { workerId: 'vps-1', kinds: ['ops.noop'], max: 5, leaseSeconds: 30 });
      expect(claim.status).toBe(200);
      // Only the next step in order is claimable, never both at once.
      expect(claim.body.steps).toHaveLength(1);
      const step = claim.body.steps[0];
      expect(step).toMatchObject({ missionId, params: { note }, attempt: 1 });

      const hb = await app.api.post(`/api/ops/steps/${step.id}/heartbeat`, { leaseToken: step.leaseToken, leaseSeconds: 120 });
      expect(hb.status).toBe(200);
      expect(new Date(hb.body.leaseExpiresAt).getTime()).toBeGreaterThan(new Date(step.leaseExpiresAt).getTime());

      const done = await app.api.post(`/api/ops/steps/${step.id}/complete`, { leaseToken: step.leaseToken, result: { posted: note } });
      expect(done.status).toBe(200);
    }

    const mission = await app.api.get(`/api/ops/missions/${missionId}`);
    expect(mission.body.mission.status).toBe('succeeded');
    expect(mission.body.mission.steps.map((s: { status: string }) => s.status)).toEqual(['succeeded', 'succeeded']);
    expect(mission.body.mission.steps[1].result).toEqual({ posted: 'second' });

    const events = await app.api.get(`/api/ops/events?trace_id=${mission.body.mission.traceId}`);
    expect(events.body.items.map((e: { kind: string }) => e.kind)).toEqual([
      'proposal:created',
      'proposal:approved',
      'mission:created',
      'mission:started',
      'step:started',
      'step:succeeded',
      'step:started',
      'step:succeeded',
      'mission:succeeded',
    ]);
    const runs = await db.prisma.opsStepRun.findMany({ where: { missionId } });
    expect(runs).toHaveLength(2);
    expect(runs.every((r) => r.outcome === 'succeeded' && r.durationMs !== null && r.workerId === 'vps-1')).toBe(true);

    const status = await app.api.get('/api/ops/workers/status');
    expect(status.body.last24h.succeeded).toBeGreaterThanOrEqual(2);
  });

  it('a completion with a stale lease token is a 409 and changes nothing', async () => {
    const created = await app.api.post('/api/ops/proposal', { title: 'stale', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }] });
    const claim = await app.api.post('/api/ops/steps/claim', { workerId: 'w1', kinds: ['ops.noop'], leaseSeconds: 30 });
    const step = claim.body.steps[0];
    // The lease expires and another worker reclaims the step (stale recovery).
    await db.pool.query(`UPDATE ops_mission_steps SET status = 'queued', lease_token = NULL, lease_owner = NULL WHERE id = $1`, [step.id]);
    const reclaim = await app.api.post('/api/ops/steps/claim', { workerId: 'w2', kinds: ['ops.noop'], leaseSeconds: 30 });
    expect(reclaim.body.steps[0].id).toBe(step.id);

    const eventsBefore = await db.prisma.opsEvent.count();
    const late = await app.api.post(`/api/ops/steps/${step.id}/complete`, { leaseToken: step.leaseToken, result: { late: true } });
    expect(late.status).toBe(409);
    const lateFail = await app.api.post(`/api/ops/steps/${step.id}/fail`, { leaseToken: step.leaseToken, error: 'late' });
    expect(lateFail.status).toBe(409);
    const lateBeat = await app.api.post(`/api/ops/steps/${step.id}/heartbeat`, { leaseToken: step.leaseToken });
    expect(lateBeat.status).toBe(409);
    expect(await db.prisma.opsEvent.count()).toBe(eventsBefore);
    const row = await db.prisma.opsMissionStep.findUniqueOrThrow({ where: { id: step.id } });
    expect(row).toMatchObject({ status: 'running', leaseOwner: 'w2', result: null });

    const ok = await app.api.post(`/api/ops/steps/${step.id}/complete`, { leaseToken: reclaim.body.steps[0].leaseToken });
    expect(ok.status).toBe(200);
    expect((await app.api.get(`/api/ops/missions/${created.body.missionId}`)).body.mission.status).toBe('succeeded');
    const unknown = await app.api.post(`/api/ops/steps/00000000-0000-4000-8000-000000000000/complete`, { leaseToken: step.leaseToken });
    expect(unknown.status).toBe(404);
  });

  it('pending proposals are approved or rejected by a person; 409 when not pending', async () => {
    const created = await app.api.post('/api/ops/proposal', { title: 'Post to X', skill: 'x_autopost', steps: [{ kind: 'x.post', params: { text: 'hello' } }] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'pending', missionId: null });
    expect(created.body.reason).toMatch(/x\.post always needs a person/);
    const id = created.body.proposal.id;

    const approved = await app.api.post(`/api/ops/proposals/${id}/approve`, { by: 'ops-lead' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', missionId: expect.any(String), reason: 'approved by ops-lead' });
    expect((await app.api.post(`/api/ops/proposals/${id}/approve`, {})).status).toBe(409);
    expect((await app.api.post(`/api/ops/proposals/${id}/reject`, {})).status).toBe(409);

    const other = await app.api.post('/api/ops/proposal', { title: 'Another', skill: 'x_autopost', steps: [{ kind: 'x.post', params: { text: 'bye' } }] });
    const rejected = await app.api.post(`/api/ops/proposals/${other.body.proposal.id}/reject`, { reason: 'off-brand' });
    expect(rejected.body).toMatchObject({ status: 'rejected', reason: 'off-brand' });

    const list = await app.api.get('/api/ops/proposals?status=rejected&skill=x_autopost&limit=1');
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0].id).toBe(other.body.proposal.id);
  });

  it('lists with cursor pagination', async () => {
    for (let i = 0; i < 5; i++) await app.api.post('/api/ops/proposal', { title: `page ${i}`, skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }] });
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const res = await app.api.get(`/api/ops/missions?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      for (const m of res.body.items) seen.add(m.id);
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.size).toBe(await db.prisma.opsMission.count());
    const events = await app.api.get('/api/ops/events?kind=mission:*&since_id=0&limit=3');
    expect(events.body.items).toHaveLength(3);
    const next = await app.api.get(`/api/ops/events?kind=mission:*&since_id=${events.body.nextSinceId}&limit=3`);
    expect(next.body.items[0].id).toBeGreaterThan(events.body.nextSinceId);
  });
});

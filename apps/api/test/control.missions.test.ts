import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { noopProposal, rowCounts, startTestApp, type TestApp } from '../../../test/app.ts';

const TERMINAL = ['mission:succeeded', 'mission:failed', 'mission:cancelled'];

describe('mission control: cancel and retry', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp(db);
  });
  afterAll(async () => {
    await t.close();
    await db.drop();
  });

  const steps = (n: number, maxAttempts?: number) => Array.from({ length: n }, () => ({ kind: 'ops.noop', params: {}, ...(maxAttempts ? { maxAttempts } : {}) }));
  async function startMission(n: number, maxAttempts?: number) {
    const res = await t.api.post('/api/ops/proposal', noopProposal({ steps: steps(n, maxAttempts) })).expect(201);
    expect(res.body.status).toBe('approved');
    return res.body.missionId as string;
  }
  async function claim(workerId = 'w1') {
    const res = await t.api.post('/api/ops/steps/claim', { workerId, kinds: ['ops.noop'], max: 1 }).expect(200);
    return res.body.steps[0] as { id: string; leaseToken: string; missionId: string; position: number; attempt: number } | undefined;
  }
  async function missionEvents(missionId: string) {
    const { body } = await t.api.get(`/api/ops/events?mission_id=${missionId}&limit=1000`).expect(200);
    return (body.items as { kind: string; payload: Record<string, unknown> }[]);
  }

  it('cancel during a running step: the old worker gets 409 on every call; the mission ends cancelled with one terminal event', async () => {
    const missionId = await startMission(3);
    const step = (await claim())!;
    expect(step.missionId).toBe(missionId);

    const res = await t.api.post(`/api/ops/missions/${missionId}/cancel`, { by: 'alice', reason: 'wrong audience' }).expect(200);
    expect(res.body).toMatchObject({ status: 'cancelled', changed: true, cancelledSteps: 3, revokedLeases: 1 });

    const before = await rowCounts(db);
    const late = await t.api.post(`/api/ops/steps/${step.id}/complete`, { leaseToken: step.leaseToken, result: { ok: true } }).expect(409);
    expect(late.body.error.code).toBe('conflict');
    await t.api.post(`/api/ops/steps/${step.id}/heartbeat`, { leaseToken: step.leaseToken }).expect(409);
    await t.api.post(`/api/ops/steps/${step.id}/fail`, { leaseToken: step.leaseToken, error: 'boom' }).expect(409);
    expect(await rowCounts(db)).toEqual(before);
    expect(await claim()).toBeUndefined();

    const { body } = await t.api.get(`/api/ops/missions/${missionId}`).expect(200);
    expect(body.mission.status).toBe('cancelled');
    expect(body.mission.steps.map((s: { status: string }) => s.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    const run = await db.pool.query('SELECT outcome FROM ops_step_runs WHERE step_id = $1', [step.id]);
    expect(run.rows).toEqual([{ outcome: 'cancelled' }]);

    // Idempotent: a second cancel changes nothing and writes no event.
    const again = await t.api.post(`/api/ops/missions/${missionId}/cancel`, {}).expect(200);
    expect(again.body).toMatchObject({ changed: false });
    const events = await missionEvents(missionId);
    const terminal = events.filter((e) => TERMINAL.includes(e.kind));
    expect(terminal).toHaveLength(1);
    expect(terminal[0]).toMatchObject({ kind: 'mission:cancelled', payload: { by: 'alice', reason: 'wrong audience', was: 'running' } });
    expect(events.filter((e) => e.kind === 'step:cancelled')).toHaveLength(3);
  });

  it('cancel racing the worker\'s complete: one of them wins, and each mission has exactly one terminal event', async () => {
    const missions = await Promise.all(Array.from({ length: 30 }, () => startMission(1)));
    const claimed = await t.api.post('/api/ops/steps/claim', { workerId: 'racer', kinds: ['ops.noop'], max: 100 }).expect(200);
    const steps = claimed.body.steps as { id: string; leaseToken: string; missionId: string }[];
    expect(steps.map((s) => s.missionId).sort()).toEqual([...missions].sort());
    const results = await Promise.all(
      steps.map(async (step) => {
        const [complete, cancel] = await Promise.all([
          t.api.post(`/api/ops/steps/${step.id}/complete`, { leaseToken: step.leaseToken }),
          t.api.post(`/api/ops/missions/${step.missionId}/cancel`, { reason: 'race' }),
        ]);
        return { missionId: step.missionId, complete: complete.status, cancel: cancel.status };
      }),
    );
    for (const r of results) {
      const { body } = await t.api.get(`/api/ops/missions/${r.missionId}`).expect(200);
      const terminal = (await missionEvents(r.missionId)).filter((e) => TERMINAL.includes(e.kind)).map((e) => e.kind);
      if (body.mission.status === 'succeeded') {
        expect([r.complete, r.cancel, terminal]).toEqual([200, 409, ['mission:succeeded']]);
      } else {
        expect([body.mission.status, r.complete, r.cancel, terminal]).toEqual(['cancelled', 409, 200, ['mission:cancelled']]);
      }
    }
  });

  it('cancel is guarded: a finished mission is 409, an unknown one 404, bad input 400', async () => {
    const missionId = await startMission(1);
    const step = (await claim())!;
    await t.api.post(`/api/ops/steps/${step.id}/complete`, { leaseToken: step.leaseToken }).expect(200);
    const res = await t.api.post(`/api/ops/missions/${missionId}/cancel`, {}).expect(409);
    expect(res.body.error.message).toMatch(/succeeded/);
    await t.api.post('/api/ops/missions/6f9619ff-8b86-4d01-b42d-00cf4fc964ff/cancel', {}).expect(404);
    const bad = await t.api.post(`/api/ops/missions/${missionId}/cancel`, { reason: '' }).expect(400);
    expect(bad.body.error.issues[0].path).toBe('reason');
    await t.api.post('/api/ops/missions/not-a-uuid/cancel', {}).expect(400);
  });

  async function failedMission(): Promise<{ missionId: string; stepIds: string[] }> {
    const missionId = await startMission(3, 1);
    const first = (await claim())!;
    await t.api.post(`/api/ops/steps/${first.id}/complete`, { leaseToken: first.leaseToken }).expect(200);
    const second = (await claim())!;
    await t.api.post(`/api/ops/steps/${second.id}/fail`, { leaseToken: second.leaseToken, error: 'upstream 500' }).expect(200);
    const { body } = await t.api.get(`/api/ops/missions/${missionId}`).expect(200);
    expect(body.mission.status).toBe('failed');
    expect(body.mission.steps.map((s: { status: string }) => s.status)).toEqual(['succeeded', 'failed', 'cancelled']);
    return { missionId, stepIds: body.mission.steps.map((s: { id: string }) => s.id) };
  }

  it('retry of a failed mission re-runs from the failed step with fresh attempts, and the mission can succeed', async () => {
    const { missionId, stepIds } = await failedMission();
    const res = await t.api.post(`/api/ops/missions/${missionId}/retry`, { by: 'bob' }).expect(200);
    expect(res.body).toMatchObject({ status: 'queued', changed: true, fromPosition: 1, requeuedSteps: 2 });
    const again = await t.api.post(`/api/ops/missions/${missionId}/retry`, {}).expect(200);
    expect(again.body.changed).toBe(false);

    const { body } = await t.api.get(`/api/ops/missions/${missionId}`).expect(200);
    expect(body.mission.steps.map((s: { status: string; attempts: number }) => [s.status, s.attempts])).toEqual([
      ['succeeded', 1],
      ['queued', 0],
      ['waiting', 0],
    ]);
    const second = (await claim())!;
    expect(second).toMatchObject({ id: stepIds[1], attempt: 1 });
    await t.api.post(`/api/ops/steps/${second.id}/complete`, { leaseToken: second.leaseToken }).expect(200);
    const third = (await claim())!;
    expect(third.id).toBe(stepIds[2]);
    await t.api.post(`/api/ops/steps/${third.id}/complete`, { leaseToken: third.leaseToken }).expect(200);
    const done = await t.api.get(`/api/ops/missions/${missionId}`).expect(200);
    expect(done.body.mission.status).toBe('succeeded');
    const kinds = (await missionEvents(missionId)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'mission:retried')).toHaveLength(1);
    expect(kinds.filter((k) => TERMINAL.includes(k))).toEqual(['mission:failed', 'mission:succeeded']);
    await t.api.post(`/api/ops/missions/${missionId}/retry`, {}).expect(409);
  });

  it('retry honours the gates: skill toggle, kill switch and daily quota refuse it with 409 and change nothing', async () => {
    const { missionId } = await failedMission();
    const put = (key: string, value: unknown) => t.api.put(`/api/ops/policy/${key}`, { value }).expect(200);
    const refused = async (gate: string) => {
      const before = await rowCounts(db);
      const res = await t.api.post(`/api/ops/missions/${missionId}/retry`, {}).expect(409);
      expect(res.body.error.gate).toBe(gate);
      expect(await rowCounts(db)).toEqual(before);
      const { body } = await t.api.get(`/api/ops/missions/${missionId}`).expect(200);
      expect(body.mission.status).toBe('failed');
    };

    await put('ops_internal', { enabled: false });
    await refused('skill');
    await put('ops_internal', { enabled: true });

    await put('system_enabled', { enabled: false });
    await refused('kill_switch');
    await put('system_enabled', { enabled: true });

    const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ops_mission_steps WHERE kind = 'ops.noop'`);
    await put('daily_quotas', { 'ops.noop': rows[0]!.n + 1 });
    await refused('quota');
    await put('daily_quotas', { 'ops.noop': rows[0]!.n + 2 });
    await t.api.post(`/api/ops/missions/${missionId}/retry`, {}).expect(200);
    await put('daily_quotas', {});
  });
});

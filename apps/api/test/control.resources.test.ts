import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, FakeClock } from '@opsloop/core';
import { createScheduler } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { rowCounts, startTestApp, type TestApp } from '../../../test/app.ts';

const rule = (overrides: Record<string, unknown> = {}) => ({
  name: 'diagnose-failures',
  description: 'three failed missions in an hour',
  event_kind: 'mission:failed',
  condition: { count_at_least: 3, window_minutes: 60 },
  cooldown_minutes: 120,
  proposal_template: { title: 'Diagnose failures', skill: 'ops_internal', steps: [{ kind: 'ops.diagnose_failures', params: {} }] },
  ...overrides,
});

describe('control API: trigger rules, reactions, alerts, policy history, schedule', () => {
  let db: TestDatabase;
  let t: TestApp;
  const clock = new FakeClock(new Date());
  const ran: string[] = [];
  let scheduler: ReturnType<typeof createScheduler>;
  beforeAll(async () => {
    db = await createTestDatabase();
    scheduler = createScheduler({
      jobs: [{ name: 'nightly-report', cron: '0 3 * * *', timezone: 'UTC', enabled: true, run: { internal: 'report' }, line: 1 }],
      prisma: db.prisma,
      pool: db.pool,
      clock,
      logger: createLogger({ level: 'silent' }),
      runner: 'test-runner',
      internalJobs: {
        report: {
          run: async (ctx) => {
            ran.push(`${ctx.jobName}:${ctx.cause}`);
            return { status: 'succeeded', detail: { ok: true } };
          },
        },
      },
      submitProposal: async () => ({ status: 'skipped', reason: 'no proposals here' }),
    });
    t = await startTestApp(db, { clock, scheduler });
  });
  afterAll(async () => {
    // A manual run opened the scheduler's owner session (a pooled connection): release it.
    await scheduler.stop();
    await t.close();
    await db.drop();
  });

  it('trigger rules: bad rules are refused with the evaluator’s schemas and change nothing', async () => {
    const before = await rowCounts(db);
    const bad = async (body: object, path: string) => {
      const res = await t.api.post('/api/ops/triggers', body).expect(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
    };
    await bad(rule({ condition: { count_at_least: 0 } }), 'condition.count_at_least');
    await bad(rule({ condition: { where: [{ path: 'a b', op: 'eq', value: 1 }] } }), 'condition.where.0.path');
    await bad(rule({ condition: { threshold: 3 } }), 'condition');
    await bad(rule({ proposal_template: { title: 'x', skill: 'ops_internal', steps: [{ kind: 'rocket.launch' }] } }), 'proposal_template.steps.0.kind');
    await bad(rule({ proposal_template: { title: 'x', skill: 'nope', steps: [{ kind: 'ops.noop' }] } }), 'proposal_template.skill');
    await bad(rule({ proposal_template: { ...rule().proposal_template, dedupeKey: 'mine' } }), 'proposal_template.dedupeKey');
    await bad(rule({ event_kind: 'mission failed' }), 'event_kind');
    await bad(rule({ cooldown_minutes: -1 }), 'cooldown_minutes');
    expect(await rowCounts(db)).toEqual(before);
  });

  it('trigger rules: create, list with firing fields, update, disable/enable, delete — each with an event', async () => {
    const created = await t.api.post('/api/ops/triggers', { ...rule(), by: 'dana' }).expect(201);
    const id = created.body.rule.id as string;
    expect(created.body.rule).toMatchObject({ name: 'diagnose-failures', enabled: true, fire_count: 0, last_fired_at: null, cooldown_until: null });
    expect(created.body.rule.condition).toEqual({ count_at_least: 3, window_minutes: 60, where: [] });
    await t.api.post('/api/ops/triggers', rule()).expect(409);

    const patched = await t.api.patch(`/api/ops/triggers/${id}`, { cooldown_minutes: 30, condition: { count_at_least: 1 } }).expect(200);
    expect(patched.body.rule).toMatchObject({ cooldown_minutes: 30, condition: { count_at_least: 1, window_minutes: 60, where: [] } });
    await t.api.patch(`/api/ops/triggers/${id}`, { proposal_template: { title: 'x', skill: 'ops_internal', steps: [] } }).expect(400);

    await t.api.post(`/api/ops/triggers/${id}/disable`, {}).expect(200);
    await t.api.post(`/api/ops/triggers/${id}/disable`, {}).expect(200);
    expect((await t.api.get(`/api/ops/triggers/${id}`).expect(200)).body.rule.enabled).toBe(false);
    await t.api.post(`/api/ops/triggers/${id}/enable`, { by: 'dana' }).expect(200);

    // It fires through the heartbeat; the list shows the firing.
    await db.pool.query(`INSERT INTO ops_events (kind, source, created_at) VALUES ('mission:failed', 'test', $1)`, [clock.now()]);
    const beat = await t.api.post('/api/ops/heartbeat').expect(200);
    expect(JSON.stringify(beat.body)).toContain('diagnose-failures');
    const { body } = await t.api.get('/api/ops/triggers').expect(200);
    const listed = body.items.find((r: { id: string }) => r.id === id);
    expect(listed.fire_count).toBe(1);
    expect(new Date(listed.cooldown_until).getTime() - new Date(listed.last_fired_at).getTime()).toBe(30 * 60_000);

    await t.api.delete(`/api/ops/triggers/${id}`).expect(200);
    await t.api.get(`/api/ops/triggers/${id}`).expect(404);
    await t.api.delete(`/api/ops/triggers/${id}`).expect(404);
    const events = await t.api.get('/api/ops/events?kind=trigger_rule:*&limit=100').expect(200);
    expect(events.body.items.map((e: { kind: string }) => e.kind)).toEqual([
      'trigger_rule:created',
      'trigger_rule:updated',
      'trigger_rule:disabled',
      'trigger_rule:enabled',
      'trigger_rule:deleted',
    ]);
    expect(events.body.items[0].payload.by).toBe('dana');
  });

  it('reactions: list by status with the error, requeue a dead one once', async () => {
    const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO ops_events (kind, source) VALUES ('engagement:high', 'test') RETURNING id`);
    const inserted = await db.pool.query<{ id: string }>(
      `INSERT INTO ops_reactions (event_id, pattern, target_skill, template, probability, roll, status, attempts, last_error)
       VALUES ($1, 'engagement:*', 'ops_internal', '{}', 1, 0.2, 'dead', 5, 'proposal rejected: skill disabled'),
              ($1, 'other', 'ops_internal', '{}', 1, 0.2, 'proposed', 1, NULL) RETURNING id`,
      [rows[0]!.id],
    );
    const [dead, done] = inserted.rows.map((r) => Number(r.id));
    const list = await t.api.get('/api/ops/reactions?status=dead').expect(200);
    expect(list.body.items).toEqual([expect.objectContaining({ id: dead, status: 'dead', last_error: 'proposal rejected: skill disabled', attempts: 5 })]);
    await t.api.post(`/api/ops/reactions/${done}/requeue`, {}).expect(409);
    const res = await t.api.post(`/api/ops/reactions/${dead}/requeue`, { by: 'erin' }).expect(200);
    expect(res.body).toEqual({ id: dead, status: 'queued' });
    await t.api.post(`/api/ops/reactions/${dead}/requeue`, {}).expect(409);
    await t.api.post('/api/ops/reactions/999999/requeue', {}).expect(404);
    const queued = await t.api.get('/api/ops/reactions?status=queued').expect(200);
    expect(queued.body.items[0]).toMatchObject({ id: dead, attempts: 0 });
    const ev = await t.api.get('/api/ops/events?kind=reaction:requeued').expect(200);
    expect(ev.body.items[0].payload).toMatchObject({ id: dead, previousError: 'proposal rejected: skill disabled', by: 'erin' });
    await t.api.get('/api/ops/reactions?status=done').expect(400);
  });

  it('alerts and policy history, newest first, paged', async () => {
    await db.pool.query(`INSERT INTO ops_alerts (kind, message, delivery_status, last_error) VALUES ('failure_rate', 'one', 'failed', 'HTTP 500'), ('failure_rate', 'two', 'delivered', NULL)`);
    const alerts = await t.api.get('/api/ops/alerts?limit=1').expect(200);
    expect(alerts.body.items).toEqual([expect.objectContaining({ message: 'two', deliveryStatus: 'delivered' })]);
    const next = await t.api.get(`/api/ops/alerts?limit=1&before=${alerts.body.nextBefore}`).expect(200);
    expect(next.body.items[0]).toMatchObject({ message: 'one', lastError: 'HTTP 500' });
    await t.api.get('/api/ops/alerts?delivery_status=failed').expect(200);

    await t.api.put('/api/ops/policy/daily_quotas', { value: { 'x.post': 5 }, changedBy: 'frank' }).expect(200);
    await t.api.put('/api/ops/policy/system_enabled', { value: { enabled: true } }).expect(200);
    const history = await t.api.get('/api/ops/policy/history?key=daily_quotas').expect(200);
    expect(history.body.items).toEqual([expect.objectContaining({ key: 'daily_quotas', new: { 'x.post': 5 }, changedBy: 'frank' })]);
    expect(history.body.items[0].old).toBeTypeOf('object');
    const all = await t.api.get('/api/ops/policy/history').expect(200);
    expect(all.body.items.map((i: { key: string }) => i.key)).toEqual(['system_enabled', 'daily_quotas']);
  });

  it('POST /schedule/:job/run runs the job now, recorded like a tick', async () => {
    const res = await t.api.post('/api/ops/schedule/nightly-report/run', { by: 'gina' }).expect(202);
    expect(res.body).toMatchObject({ job: 'nightly-report', outcome: 'started', runId: expect.any(String) });
    const deadline = Date.now() + 10_000;
    const outcome = async () =>
      (await db.pool.query<{ outcome: string }>(`SELECT outcome FROM ops_schedule_runs WHERE job_name = 'nightly-report'`)).rows.map((r) => r.outcome);
    while ((await outcome()).join() !== 'succeeded') {
      if (Date.now() > deadline) throw new Error(`run not recorded: ${await outcome()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(ran).toEqual(['nightly-report:manual']);
    const who = await db.pool.query(`SELECT requested_by FROM ops_schedule_runs WHERE job_name = 'nightly-report'`);
    expect(who.rows).toEqual([{ requested_by: 'gina' }]);
    const { body } = await t.api.get('/api/ops/schedule').expect(200);
    expect(body.jobs[0].lastRun).toMatchObject({ outcome: 'succeeded' });
    await t.api.post('/api/ops/schedule/no-such-job/run', {}).expect(404);
    await t.api.post('/api/ops/schedule/Bad_Name/run', {}).expect(400);
  });
});

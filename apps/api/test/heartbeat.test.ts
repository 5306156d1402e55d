import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '@opsloop/core';
import { claimSteps, createProposal, failStep, slackSink } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { HEARTBEAT_TOKEN, startTestApp, type TestApp } from '../../../test/app.ts';
import { startFakeSlack } from '../../../test/fakes/fakeSlack.ts';

let db: TestDatabase;
let slack: Awaited<ReturnType<typeof startFakeSlack>>;
const apps: TestApp[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack?.close();
  await db?.drop();
});
beforeEach(async () => {
  await db.pool.query(`TRUNCATE ops_proposals, ops_missions, ops_mission_steps, ops_step_runs, ops_events, ops_alerts, ops_heartbeat_runs, ops_cursors, ops_reactions CASCADE`);
  await db.pool.query(`UPDATE ops_trigger_rules SET last_fired_at = NULL, fire_count = 0`);
  slack.messages.length = 0;
  slack.up();
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function start(clock: FakeClock, extra: Parameters<typeof startTestApp>[1] = {}) {
  const app = await startTestApp(db, { clock, random: () => 0.5, ...extra, heartbeat: { sink: slackSink(slack.url), ...extra.heartbeat } });
  apps.push(app);
  return app;
}
const beat = (app: TestApp) => app.raw.post('/api/ops/heartbeat').set('Authorization', `Bearer ${HEARTBEAT_TOKEN}`);

/** A mission whose only step fails for good (max_attempts 1). */
async function failingMission(app: TestApp) {
  const { proposal } = await createProposal(app.ops, { title: 'fails', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {}, maxAttempts: 1 }] });
  const [step] = await claimSteps(app.ops, { workerId: 'w', kinds: ['ops.noop'], max: 1, leaseSeconds: 60 });
  await failStep(app.ops, { stepId: step!.id, leaseToken: step!.leaseToken, error: 'upstream 503' });
  return proposal!.missionId!;
}

describe('heartbeat', () => {
  it('failing steps -> mission failures -> the trigger fires once -> diagnosis auto-approved; cooldown holds across a restart', async () => {
    const clock = new FakeClock('2026-11-23T00:00:00Z');
    const app = await start(clock);
    await failingMission(app);
    await failingMission(app);
    let res = await beat(app);
    expect(res.status).toBe(200);
    expect(res.body.phases.find((p: { name: string }) => p.name === 'evaluateTriggers').result.fired).toEqual([]);

    clock.advance(60_000);
    await failingMission(app);
    res = await beat(app);
    const fired = res.body.phases.find((p: { name: string }) => p.name === 'evaluateTriggers').result.fired;
    expect(fired).toEqual([{ rule: 'mission-failure-spike', proposalId: expect.any(String), status: 'approved' }]);
    const diagnosis = await db.prisma.opsProposal.findUniqueOrThrow({ where: { id: fired[0].proposalId } });
    expect(diagnosis).toMatchObject({ source: 'trigger', status: 'approved', skill: 'ops_internal', proposedBy: 'trigger:mission-failure-spike' });
    expect(await db.prisma.opsEvent.count({ where: { kind: 'trigger:fired' } })).toBe(1);

    // A restart: a new process (new app, new policy reader) on the same database.
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    const again = await start(clock);
    clock.advance(5 * 60_000);
    await failingMission(again);
    res = await beat(again);
    expect(res.body.phases.find((p: { name: string }) => p.name === 'evaluateTriggers').result.fired).toEqual([]);
    const rule = await db.prisma.opsTriggerRule.findUniqueOrThrow({ where: { name: 'mission-failure-spike' } });
    expect(rule.fireCount).toBe(1);

    // After the cooldown (60 min) a new spike fires again.
    clock.advance(61 * 60_000);
    for (let i = 0; i < 3; i++) await failingMission(again);
    res = await beat(again);
    expect(res.body.phases.find((p: { name: string }) => p.name === 'evaluateTriggers').result.fired).toHaveLength(1);
  });

  it('10 concurrent heartbeats: exactly one runs, the others get 409 already_running', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let entered = 0;
    const app = await start(new FakeClock(), {
      heartbeat: {
        promoteInsights: async () => {
          entered++;
          await gate;
          return { held: true };
        },
      },
    });
    // The nine losers answer at once, while the winner is held inside its phases.
    const settled: { status: number; body: { status?: string } }[] = [];
    const requests = Array.from({ length: 10 }, () => beat(app).then((res) => settled.push(res)));
    await expect.poll(() => entered).toBe(1);
    await expect.poll(() => settled.length).toBe(9);
    expect(settled.every((r) => r.status === 409 && r.body.status === 'already_running')).toBe(true);
    release();
    await Promise.all(requests);
    expect(settled.filter((r) => r.status === 200)).toHaveLength(1);
    expect(await db.prisma.opsHeartbeatRun.count()).toBe(1);
    const last = await app.api.get('/api/ops/heartbeat/last');
    expect(last.body.heartbeat).toMatchObject({ status: 'succeeded', finishedAt: expect.any(String) });
  });

  it('a trigger phase that throws still runs every other phase and reports the error', async () => {
    const app = await start(new FakeClock());
    await db.pool.query('ALTER TABLE ops_trigger_rules RENAME TO ops_trigger_rules_away');
    try {
      const res = await beat(app);
      expect(res.status).toBe(200);
      const phases = res.body.phases as { name: string; ok: boolean; error?: string }[];
      expect(phases.map((p) => p.name)).toEqual([
        'evaluateTriggers',
        'processReactionQueue',
        'promoteInsights',
        'recoverStaleSteps',
        'expireStaleProposals',
        'checkOpsHealth',
        'vacuumQueues',
      ]);
      expect(phases[0]).toMatchObject({ ok: false, error: expect.stringContaining('ops_trigger_rules') });
      expect(phases.slice(1).every((p) => p.ok)).toBe(true);
      expect((await db.prisma.opsHeartbeatRun.findFirstOrThrow()).status).toBe('partial');
    } finally {
      await db.pool.query('ALTER TABLE ops_trigger_rules_away RENAME TO ops_trigger_rules');
    }
  });

  it('needs the heartbeat token (or the API token)', async () => {
    const app = await start(new FakeClock());
    expect((await app.raw.post('/api/ops/heartbeat')).status).toBe(401);
    expect((await app.api.post('/api/ops/heartbeat')).status).toBe(200);
    expect((await app.raw.get('/api/ops/heartbeat/last').set('Authorization', `Bearer ${HEARTBEAT_TOKEN}`)).status).toBe(401);
  });
});

describe('ops monitor alerts', () => {
  it('5 failures -> one Slack message; 5 more within the cooldown -> none; after it -> one; Slack down -> recorded and retried', async () => {
    const clock = new FakeClock('2026-11-23T03:00:00Z');
    // A wide heartbeat window: this test is about failure alerts, not heartbeat gaps.
    const app = await start(clock, { heartbeat: { heartbeatWindowMinutes: 24 * 60 } });
    await db.pool.query(`UPDATE ops_trigger_rules SET enabled = false`);
    // Retried steps wait in the queue past the queue-age threshold here; thresholds have their own tests.
    await db.pool.query(`UPDATE ops_policy SET value = jsonb_set(value, '{thresholds,enabled}', 'false') WHERE key = 'ops_monitor'`);
    for (let i = 0; i < 5; i++) await failingMission(app);
    await beat(app);
    expect(slack.messages).toHaveLength(1);
    expect(slack.messages[0]!.text).toMatch(/5 step failures in the last 60 min/);

    clock.advance(10 * 60_000);
    for (let i = 0; i < 5; i++) await failingMission(app);
    await beat(app);
    expect(slack.messages).toHaveLength(1);

    clock.advance(55 * 60_000); // 65 min after the first alert; the last 5 failures are 55 min old
    slack.down();
    await beat(app);
    expect(slack.messages).toHaveLength(1);
    const failed = await db.prisma.opsAlert.findFirstOrThrow({ where: { deliveryStatus: 'failed' } });
    expect(failed.lastError).toMatch(/HTTP 500/);
    expect(failed.lastError).not.toContain('secretwebhookpart');

    slack.up();
    clock.advance(60_000);
    await beat(app);
    expect(slack.messages).toHaveLength(2);
    expect(await db.prisma.opsAlert.count()).toBe(2);
    expect(await db.prisma.opsAlert.count({ where: { deliveryStatus: 'delivered' } })).toBe(2);
    await db.pool.query(`UPDATE ops_trigger_rules SET enabled = true`);
    await db.pool.query(`UPDATE ops_policy SET value = jsonb_set(value, '{thresholds,enabled}', 'true') WHERE key = 'ops_monitor'`);
  });

  it('flags a missing heartbeat, and the daily summary shows it', async () => {
    const clock = new FakeClock('2026-11-23T03:00:00Z');
    const app = await start(clock);
    await beat(app);
    clock.advance(40 * 60_000);
    const summary = await app.api.get('/api/ops/summary/daily');
    expect(summary.body.heartbeat).toMatchObject({ count: 1, missing: true });
    await beat(app);
    expect(slack.messages.some((m) => /no heartbeat for 40 min/.test(m.text))).toBe(true);
    const after = await app.api.get('/api/ops/summary/daily?date=2026-11-23');
    expect(after.body).toMatchObject({ date: '2026-11-23', timeZone: 'Asia/Tokyo', heartbeat: { count: 2, missing: false } });
    expect((await app.api.get('/api/ops/summary/daily?date=23-11-2026')).status).toBe(400);
  });
});

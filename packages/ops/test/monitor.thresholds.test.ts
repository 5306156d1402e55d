import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '@opsloop/core';
import { checkOpsHealth, createProposal, slackSink } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps } from '../../../test/app.ts';
import { startFakeSlack } from '../../../test/fakes/fakeSlack.ts';

let db: TestDatabase;
let slack: Awaited<ReturnType<typeof startFakeSlack>>;
let clock: FakeClock;
let deps: ReturnType<typeof createOps> & { sink: ReturnType<typeof slackSink>; heartbeatWindowMinutes: number };
beforeAll(async () => {
  db = await createTestDatabase();
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack?.close();
  await db?.drop();
});
beforeEach(async () => {
  await db.pool.query(`TRUNCATE ops_system_metrics, ops_alerts, ops_events, ops_monitor_breaches, ops_backups, ops_proposals, ops_missions, ops_mission_steps CASCADE`);
  slack.messages.length = 0;
  clock = new FakeClock(new Date());
  deps = { ...createOps(db, clock), sink: slackSink(slack.url), heartbeatWindowMinutes: 15 };
});

const MB = 1024 * 1024;
async function sample(o: { worker?: string; rssMb?: number; cpu?: number; requests?: number; errors?: number; slowSeconds?: number; at?: Date }) {
  const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60].map((le) => ({ le, n: 0 }));
  const all: { le: number | '+Inf'; n: number }[] = [...buckets, { le: '+Inf', n: 0 }];
  const requests = o.requests ?? 0;
  const slot = all.findIndex((b) => b.le === '+Inf' || (o.slowSeconds ?? 0.01) <= b.le);
  all[slot]!.n = requests;
  await db.prisma.opsSystemMetric.create({
    data: {
      workerId: o.worker ?? 'host-a:100',
      host: 'host-a',
      pid: 100,
      cpuPercent: o.cpu ?? 10,
      rssBytes: BigInt(Math.round((o.rssMb ?? 200) * MB)),
      heapUsedBytes: 50n * BigInt(MB),
      heapTotalBytes: 80n * BigInt(MB),
      eventLoopLagP99Ms: 12,
      activeSteps: 0,
      httpRequests: requests,
      httpErrors: o.errors ?? 0,
      httpDurationBuckets: all,
      createdAt: o.at ?? clock.now(),
    },
  });
}
const check = () => checkOpsHealth(deps as unknown as Parameters<typeof checkOpsHealth>[0]);
const texts = () => slack.messages.map((m) => m.text);

describe('monitoring thresholds', () => {
  it('memory: alerts once per breach, nothing more while it lasts, resolved when it clears', async () => {
    await sample({ rssMb: 620 });
    let r = await check();
    expect(r.thresholds).toMatchObject({ breached: ['memory'], alerted: ['memory'] });
    expect(texts()).toEqual([expect.stringMatching(/memory 620 MB RSS on host-a:100 \(limit 500 MB\)/)]);

    for (let i = 0; i < 3; i++) {
      clock.advance(60_000);
      await sample({ rssMb: 640 });
      r = await check();
      expect(r.thresholds.alerted).toEqual([]);
    }
    expect(texts()).toHaveLength(1);

    clock.advance(60_000);
    await sample({ rssMb: 300 });
    r = await check();
    expect(r.thresholds).toMatchObject({ breached: [], resolved: ['memory'] });
    expect(texts()[1]).toMatch(/resolved after 4 min: memory 300 MB/);
    const alerts = await db.prisma.opsAlert.findMany({ orderBy: { id: 'asc' } });
    expect(alerts.map((a) => [a.kind, a.deliveryStatus])).toEqual([
      ['threshold:memory', 'delivered'],
      ['threshold:memory:resolved', 'delivered'],
    ]);
  });

  it('a breach again inside the cooldown is not repeated (nor its resolution); after the cooldown it alerts again', async () => {
    await sample({ rssMb: 600 });
    await check();
    clock.advance(60_000);
    await sample({ rssMb: 100 });
    await check(); // resolved
    clock.advance(60_000);
    await sample({ rssMb: 700 });
    expect((await check()).thresholds).toMatchObject({ breached: ['memory'], alerted: [] });
    clock.advance(60_000);
    await sample({ rssMb: 100 });
    expect((await check()).thresholds.resolved).toEqual([]);
    expect(texts()).toHaveLength(2);

    clock.advance(61 * 60_000);
    await sample({ rssMb: 900 });
    expect((await check()).thresholds.alerted).toEqual(['memory']);
    expect(texts()).toHaveLength(3);
  });

  it('CPU must stay over 80 % for 5 samples; a gone worker does not count', async () => {
    for (let i = 0; i < 4; i++) {
      await sample({ cpu: 95 });
      clock.advance(60_000);
    }
    await sample({ cpu: 95, worker: 'gone:1', at: new Date(clock.now().getTime() - 10 * 60_000) });
    expect((await check()).thresholds.breached).toEqual([]);
    await sample({ cpu: 91 });
    expect((await check()).thresholds).toMatchObject({ breached: ['cpu'], alerted: ['cpu'] });
    expect(texts()[0]).toMatch(/CPU above 91 % for 5 samples on host-a:100/);
  });

  it('5xx rate over 15 minutes across replicas, p95 from the summed buckets', async () => {
    await sample({ worker: 'a:1', requests: 100, errors: 3 });
    await sample({ worker: 'b:2', requests: 100, errors: 4, at: new Date(clock.now().getTime() - 10 * 60_000) });
    await sample({ worker: 'b:2', requests: 100, errors: 90, at: new Date(clock.now().getTime() - 20 * 60_000) }); // outside the window
    expect((await check()).thresholds.breached).toEqual([]);

    clock.advance(60_000);
    await sample({ worker: 'a:1', requests: 20, errors: 10, slowSeconds: 25 });
    const r = await check();
    expect(r.thresholds.breached.sort()).toEqual(['http_5xx_rate', 'http_p95']);
    expect(texts().join('\n')).toMatch(/HTTP 5xx rate 7.7 % \(17\/220\) over 15 min/);
    expect(texts().join('\n')).toMatch(/p95 response time 19 s over 15 min \(limit 10 s\)/);
  });

  it('queue age: the oldest claimable step waiting over 15 minutes', async () => {
    await createProposal(deps, { title: 'x', skill: 'x_autopost', steps: [{ kind: 'x.post', params: { text: 'hi' } }] });
    await db.pool.query(`UPDATE ops_proposals SET status = 'approved'`);
    await db.pool.query(
      `INSERT INTO ops_missions (id, proposal_id, title, skill, status, trace_id) SELECT gen_random_uuid(), id, title, skill, 'queued', trace_id FROM ops_proposals`,
    );
    await db.pool.query(
      `INSERT INTO ops_mission_steps (mission_id, position, kind, skill, status, trace_id, run_after) SELECT id, 0, 'x.post', skill, 'queued', trace_id, $1 FROM ops_missions`,
      [clock.now()],
    );
    clock.advance(14 * 60_000);
    expect((await check()).thresholds.breached).toEqual([]);
    clock.advance(2 * 60_000);
    expect((await check()).thresholds.breached).toEqual(['queue_age']);
    expect(texts()[0]).toMatch(/oldest queued step waiting 16 min \(limit 15 min\)/);
  });

  it('no successful backup in 26 hours, resolved by the next backup', async () => {
    // Never backed up: counted from the first migration of this (cloned) database.
    const { rows } = await db.pool.query<{ at: Date }>(`SELECT min(run_at) AS at FROM schemaversion`);
    clock.set(new Date(rows[0]!.at.getTime() + 26 * 3_600_000 - 60_000));
    expect((await check()).thresholds.breached).toEqual([]);
    clock.set(new Date(rows[0]!.at.getTime() + 27 * 3_600_000));
    expect((await check()).thresholds.breached).toEqual(['backup_age']);
    expect(texts()[0]).toMatch(/no successful backup ever, 27 h since install \(limit 26 h\)/);
    await db.pool.query(`INSERT INTO ops_backups (name, triggered_by, status, started_at, finished_at) VALUES ('b1', 'test', 'succeeded', $1, $1)`, [clock.now()]);
    clock.advance(60_000);
    expect((await check()).thresholds.resolved).toEqual(['backup_age']);
  });

  it('the policy is validated and bounded', async () => {
    const { POLICY_SCHEMAS } = await import('@opsloop/ops');
    const base = (await deps.policy.read(db.prisma, ['ops_monitor'])).ops_monitor;
    expect(base.thresholds).toMatchObject({ memory_mb: 500, cpu_percent: 80, cpu_samples: 5, http_5xx_rate: 0.05, p95_seconds: 10, queue_age_minutes: 15, backup_max_age_hours: 26 });
    expect(POLICY_SCHEMAS.ops_monitor.safeParse({ ...base, thresholds: { ...base.thresholds, http_5xx_rate: 5 } }).success).toBe(false);
    expect(POLICY_SCHEMAS.ops_monitor.safeParse({ ...base, thresholds: { ...base.thresholds, memory_mb: 1 } }).success).toBe(false);
    expect(POLICY_SCHEMAS.ops_monitor.safeParse({ ...base, thresholds: { ...base.thresholds, extra: 1 } }).success).toBe(false);
  });
});

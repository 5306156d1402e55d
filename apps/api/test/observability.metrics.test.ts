import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, createLogger } from '@opsloop/core';
import { createSystemSampler, recordUsage, slackSink } from '@opsloop/ops';
import { backupStatus, databaseReadiness, localDestination, runBackup } from '@opsloop/backup';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { HEARTBEAT_TOKEN, startTestApp, type TestApp } from '../../../test/app.ts';
import { startFakeSlack } from '../../../test/fakes/fakeSlack.ts';

let db: TestDatabase;
let slack: Awaited<ReturnType<typeof startFakeSlack>>;
let app: TestApp;
let dir: string;
const clock = new FakeClock(new Date());
beforeAll(async () => {
  db = await createTestDatabase();
  slack = await startFakeSlack();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'opsloop-api-backups-'));
  const backupDeps = { pool: db.pool, clock, logger: createLogger({ level: 'silent' }), destination: localDestination(dir), readiness: databaseReadiness(db.pool) };
  app = await startTestApp(db, {
    clock,
    heartbeat: {
      sink: slackSink(slack.url),
      promoteInsights: async () => {
        throw new Error('insights down');
      },
    },
    backups: {
      run: (triggeredBy) => runBackup(backupDeps, { triggeredBy, waitMs: 1000, onNotReady: 'throw' }),
      status: () => backupStatus(db.pool),
    },
  });
});
afterAll(async () => {
  await app?.close();
  await slack?.close();
  await db?.drop();
  await fs.rm(dir, { recursive: true, force: true });
});

/** `name{labels} value` lines of the exposition, by series. */
function series(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

const claim = async (kinds: string[], leaseSeconds = 60) =>
  (await app.api.post('/api/ops/steps/claim', { workerId: 'ext-1', kinds, max: 1, leaseSeconds })).body.steps as { id: string; leaseToken: string }[];

describe('GET /metrics', () => {
  it('after a mission runs, a step fails and an alert fires: every named metric with its labels and values', async () => {
    await db.pool.query(`UPDATE ops_policy SET value = jsonb_set(value, '{failure_threshold}', '1') WHERE key = 'ops_monitor'`);

    // A mission that succeeds (claimed and completed over HTTP after waiting 2 s).
    const ok = await app.api.post('/api/ops/proposal', { title: 'ok', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }] });
    expect(ok.status).toBe(201);
    clock.advance(2000);
    const [s1] = await claim(['ops.noop']);
    clock.advance(1500);
    expect((await app.api.post(`/api/ops/steps/${s1!.id}/complete`, { leaseToken: s1!.leaseToken, result: {} })).status).toBe(200);
    expect((await app.api.get(`/api/ops/missions/${ok.body.missionId}`)).body.mission.status).toBe('succeeded');

    // A step that fails for good.
    await app.api.post('/api/ops/proposal', { title: 'bad', skill: 'ops_internal', steps: [{ kind: 'ops.analyze_engagement', params: {} }] });
    const [s2] = await claim(['ops.analyze_engagement']);
    expect((await app.api.post(`/api/ops/steps/${s2!.id}/fail`, { leaseToken: s2!.leaseToken, error: 'boom', retryable: false })).status).toBe(200);

    // A lease that expires, one step left running, one queued, a pending proposal.
    await app.api.post('/api/ops/proposal', { title: 'lost', skill: 'ops_internal', steps: [{ kind: 'ops.diagnose_failures', params: {} }] });
    await claim(['ops.diagnose_failures'], 5);
    await app.api.post('/api/ops/proposal', { title: 'running', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }] });
    await claim(['ops.noop'], 3600);
    await app.api.post('/api/ops/proposal', { title: 'queued', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }] });
    expect((await app.api.post('/api/ops/proposal', { title: 'needs a person', skill: 'x_autopost', steps: [{ kind: 'x.post', params: { text: 'hello' } }] })).status).toBe(201);
    await recordUsage(db.prisma, { purpose: 'insight_promotion', model: 'm', usage: { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 } }, clock.now(), app.ops.observer);
    await runBackup({ pool: db.pool, clock, logger: createLogger({ level: 'silent' }), destination: localDestination(dir), readiness: async () => undefined }, { triggeredBy: 'test', waitMs: 0, onNotReady: 'throw' });
    await app.raw.get('/no/such/route/123');

    clock.advance(60_000);
    const beat = await app.raw.post('/api/ops/heartbeat').set('Authorization', `Bearer ${HEARTBEAT_TOKEN}`);
    expect(beat.status).toBe(200);
    expect(slack.messages.some((m) => /step failures/.test(m.text))).toBe(true);
    await db.pool.query('ANALYZE');

    const t0 = performance.now();
    const res = await app.raw.get('/metrics');
    const ms = performance.now() - t0;
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    const m = series(res.text);
    const { rows } = await db.pool.query<{ at: number }>(`SELECT extract(epoch FROM finished_at)::float8 AS at FROM ops_heartbeat_runs ORDER BY id DESC LIMIT 1`);
    const { rows: backups } = await db.pool.query<{ at: number }>(`SELECT extract(epoch FROM finished_at)::float8 AS at FROM ops_backups WHERE status = 'succeeded'`);

    expect(m.get('opsloop_queue_depth{kind="ops.noop"}')).toBe(1);
    expect(m.get('opsloop_oldest_queued_seconds{kind="ops.noop"}')).toBeGreaterThanOrEqual(60);
    expect(m.get('opsloop_steps_running{kind="ops.noop"}')).toBe(1);
    expect(m.get('opsloop_step_duration_seconds_count{kind="ops.noop",outcome="succeeded"}')).toBe(1);
    expect(m.get('opsloop_step_duration_seconds_sum{kind="ops.noop",outcome="succeeded"}')).toBeCloseTo(1.5, 3);
    expect(m.get('opsloop_step_duration_seconds_bucket{le="5",kind="ops.noop",outcome="succeeded"}')).toBe(1);
    expect(m.get('opsloop_step_start_delay_seconds_count{kind="ops.noop"}')).toBe(2);
    expect(m.get('opsloop_step_start_delay_seconds_bucket{le="1",kind="ops.noop"}')).toBe(1); // the second waited 0 s
    expect(m.get('opsloop_step_attempts_total{kind="ops.noop",outcome="succeeded"}')).toBe(1);
    expect(m.get('opsloop_step_attempts_total{kind="ops.analyze_engagement",outcome="failed"}')).toBe(1);
    expect(m.get('opsloop_step_attempts_total{kind="ops.diagnose_failures",outcome="lost"}')).toBe(1);
    expect(m.get('opsloop_lease_expiries_total')).toBe(1);
    expect(m.get('opsloop_proposals_total{source="api",status="approved"}')).toBe(5);
    expect(m.get('opsloop_proposals_total{source="api",status="pending"}')).toBe(1);
    expect(m.get('opsloop_heartbeat_last_success_timestamp_seconds')).toBeCloseTo(rows[0]!.at, 3);
    expect(m.get('opsloop_heartbeat_phase_duration_seconds_count{phase="checkOpsHealth"}')).toBe(1);
    expect(m.get('opsloop_heartbeat_phase_errors_total{phase="promoteInsights"}')).toBe(1);
    expect(m.get('opsloop_alerts_total{kind="failure_rate",delivered="true"}')).toBe(1);
    expect(m.get('opsloop_llm_tokens_total{purpose="insight_promotion"}')).toBe(30);
    expect(m.get('opsloop_http_request_duration_seconds_count{method="POST",route="/api/ops/proposal",status="201"}')).toBe(6);
    expect(m.get('opsloop_http_request_duration_seconds_count{method="GET",route="/api/ops/missions/:id",status="200"}')).toBe(1);
    expect(m.get('opsloop_http_request_duration_seconds_count{method="POST",route="/api/ops/steps/:id/complete",status="200"}')).toBe(1);
    expect(m.get('opsloop_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect([...m.keys()].some((k) => k.includes('/no/such'))).toBe(false);
    expect(m.get('opsloop_backup_last_success_timestamp_seconds')).toBeCloseTo(backups[0]!.at, 3);
    expect(m.get('opsloop_table_rows{table="ops_events"}')).toBeGreaterThan(10);
    expect(m.has('process_cpu_user_seconds_total')).toBe(true);
    expect(m.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect(ms).toBeLessThan(1000); // the < 50 ms figure is measured by bench/metrics.ts
  });

  it('database gauges come from one cached query: a second scrape within 10 s does not query again', async () => {
    await app.raw.get('/metrics');
    await db.pool.query(`UPDATE ops_mission_steps SET status = 'cancelled' WHERE status = 'queued'`);
    const again = series((await app.raw.get('/metrics')).text);
    expect(again.get('opsloop_queue_depth{kind="ops.noop"}')).toBe(1);
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  it('needs the bearer token', async () => {
    const locked = await startTestApp(db, { clock, metricsToken: 'metrics-token-0123456789abcdef' });
    try {
      expect((await locked.raw.get('/metrics')).status).toBe(401);
      expect((await locked.raw.get('/metrics').set('Authorization', 'Bearer wrong')).status).toBe(401);
      expect((await locked.raw.get('/metrics').set('Authorization', 'Bearer metrics-token-0123456789abcdef')).status).toBe(200);
    } finally {
      await locked.close();
    }
  });
});

describe('workers status', () => {
  it("shows each process's latest sample, and marks one silent for 3 minutes as gone", async () => {
    const sampler = createSystemSampler({ prisma: db.prisma, clock, logger: createLogger({ level: 'silent' }), workerId: 'host-x:42', activeSteps: () => 3, httpWindow: app.metrics.httpWindow });
    await app.raw.get('/health');
    await sampler.sample();
    let res = await app.api.get('/api/ops/workers/status');
    expect(res.body.processes).toContainEqual(expect.objectContaining({ workerId: 'host-x:42', status: 'live', activeSteps: 3, rssBytes: expect.any(Number), cpuPercent: expect.any(Number), eventLoopLagP99Ms: expect.any(Number) }));
    const { rows } = await db.pool.query(`SELECT http_requests FROM ops_system_metrics WHERE worker_id = 'host-x:42'`);
    expect(rows[0].http_requests).toBeGreaterThanOrEqual(1);
    clock.advance(3 * 60_000);
    res = await app.api.get('/api/ops/workers/status');
    expect(res.body.processes).toContainEqual(expect.objectContaining({ workerId: 'host-x:42', status: 'gone' }));
  });
});

describe('/api/ops/backups', () => {
  it('POST runs a backup (201); GET shows the last successful one', async () => {
    const res = await app.api.post('/api/ops/backups', {});
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'succeeded', destination: 'local', location: expect.stringContaining(dir), sizeBytes: expect.any(Number), schemaVersion: expect.any(Number) });
    const status = await app.api.get('/api/ops/backups');
    expect(status.body.lastSuccessful).toMatchObject({ name: res.body.name, sizeBytes: res.body.sizeBytes, destination: 'local' });
    expect((await app.api.post('/api/ops/backups', { what: 1 })).status).toBe(400);
    expect((await app.raw.post('/api/ops/backups')).status).toBe(401);
  });

  it('answers 503 when the service does not become ready within the wait', async () => {
    const notReady = await startTestApp(db, {
      clock,
      backups: {
        run: (by) => runBackup({ pool: db.pool, clock, logger: createLogger({ level: 'silent' }), destination: localDestination(dir), readiness: async () => 'migrations not current (database at 3, opsloop ships 11)' }, { triggeredBy: by, waitMs: 200, onNotReady: 'throw' }),
        status: () => backupStatus(db.pool),
      },
    });
    try {
      const res = await notReady.api.post('/api/ops/backups');
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({ code: 'not_ready', message: expect.stringMatching(/migrations not current/) });
    } finally {
      await notReady.close();
    }
  });
});

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '@opsloop/core';
import { claimSteps, completeSteps, createProposal, pruneRetention } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps } from '../../../test/app.ts';

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'opsloop-retention-'));
});
afterAll(async () => {
  await db?.drop();
  await fs.rm(dir, { recursive: true, force: true });
});

const n = async (sql: string, params: unknown[] = []) => (await db.pool.query<{ n: number }>(sql, params)).rows[0]!.n;

describe('retention', () => {
  it('with 100k old events and runs: deletes exactly the expired ones in batches, keeps the unfinished and the unread, while the loop keeps working', async () => {
    const clock = new FakeClock(new Date());
    const ops = createOps(db, clock);
    const old = new Date(clock.now().getTime() - 40 * 86_400_000);
    await db.pool.query(`UPDATE ops_policy SET value = jsonb_set(jsonb_set(value, '{pause_ms}', '5'), '{archive}', 'true') WHERE key = 'retention'`);

    // An unfinished mission whose old events and runs must stay, and a finished one.
    const running = await createProposal(ops, { title: 'unfinished', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }] });
    const runningMission = running.proposal.missionId!;
    const done = await createProposal(ops, { title: 'finished', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }] });
    const claimed = await claimSteps(ops, { workerId: 'w', kinds: ['ops.noop'], max: 2, leaseSeconds: 600 });
    await completeSteps(ops, claimed.filter((s) => s.missionId === done.proposal.missionId).map((s) => ({ stepId: s.id, leaseToken: s.leaseToken })));
    const doneMission = done.proposal.missionId!;
    const stepOf = async (m: string) => (await db.pool.query<{ id: string }>(`SELECT id FROM ops_mission_steps WHERE mission_id = $1`, [m])).rows[0]!.id;

    const base = await n(`SELECT coalesce(max(id), 0)::int AS n FROM ops_events`);
    // 100,000 old events; 500 of them belong to the unfinished mission.
    await db.pool.query(
      `INSERT INTO ops_events (kind, source, mission_id, payload, created_at)
       SELECT 'load:old', 'test', CASE WHEN g % 200 = 0 THEN $2::uuid END, jsonb_build_object('g', g), $1 FROM generate_series(1, 100000) g`,
      [old, runningMission],
    );
    await db.pool.query(`INSERT INTO ops_events (kind, source, created_at) SELECT 'load:new', 'test', now() FROM generate_series(1, 1000)`);
    // Cursors have read the first 90,000 old events only.
    await db.pool.query(`INSERT INTO ops_cursors (name, last_event_id) VALUES ('triggers', $1), ('reactions', $2) ON CONFLICT (name) DO UPDATE SET last_event_id = excluded.last_event_id`, [base + 95_000, base + 90_000]);
    await db.pool.query(
      `INSERT INTO ops_step_runs (step_id, mission_id, attempt, kind, worker_id, lease_token, started_at, finished_at, outcome)
       SELECT CASE WHEN g <= 100 THEN $3::uuid ELSE $4::uuid END, CASE WHEN g <= 100 THEN $2::uuid ELSE $5::uuid END,
              1, 'ops.noop', 'w', gen_random_uuid(), $1, $1, 'failed' FROM generate_series(1, 20000) g`,
      [old, runningMission, await stepOf(runningMission), await stepOf(doneMission), doneMission],
    );
    await db.pool.query(`INSERT INTO ops_heartbeat_runs (triggered_by, status, started_at, finished_at) SELECT 'test', 'succeeded', $1::timestamptz + g * interval '1 second', $1::timestamptz + g * interval '1 second' FROM generate_series(1, 3000) g`, [old]);
    await db.pool.query(`INSERT INTO ops_schedule_runs (job_name, scheduled_for, runner, outcome, started_at) SELECT 'job', $1::timestamptz + g * interval '1 minute', 'r', CASE WHEN g = 1 THEN 'running' ELSE 'succeeded' END, $1 FROM generate_series(1, 2000) g`, [old]);
    await db.pool.query(`INSERT INTO ops_system_metrics (worker_id, host, pid, cpu_percent, rss_bytes, heap_used_bytes, heap_total_bytes, event_loop_lag_p99_ms, created_at) SELECT 'w', 'h', 1, 1, 1, 1, 1, 1, $1 FROM generate_series(1, 1000) g`, [old]);

    const expectedEvents = await n(
      `SELECT count(*)::int AS n FROM ops_events WHERE kind = 'load:old' AND id <= $1 AND (mission_id IS NULL OR mission_id <> $2)`,
      [base + 90_000, runningMission],
    );
    expect(expectedEvents).toBeGreaterThan(89_000);

    // The loop keeps working during the prune: a mission goes from proposal to success.
    const prune = pruneRetention({ ...ops, pool: db.pool, archive: { stagingDir: () => path.join(dir, '.staging'), put: async (name, file, local) => {
      await fs.mkdir(path.join(dir, name), { recursive: true });
      await fs.rename(local, path.join(dir, name, file));
    } } });
    const during = await createProposal(ops, { title: 'during prune', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }] });
    const [step] = await claimSteps(ops, { workerId: 'w2', kinds: ['ops.noop'], max: 1, leaseSeconds: 60 }).then((s) => s.filter((x) => x.missionId === during.proposal.missionId));
    await completeSteps(ops, [{ stepId: step!.id, leaseToken: step!.leaseToken }]);
    const result = await prune;
    expect(await n(`SELECT count(*)::int AS n FROM ops_missions WHERE id = $1 AND status = 'succeeded'`, [during.proposal.missionId])).toBe(1);

    expect(result.pruned).toEqual({ events: expectedEvents, step_runs: 19_900, heartbeat_runs: 2999, schedule_runs: 1999, alerts: 0, system_metrics: 1000, llm_usage: 0 });
    expect(result.batches).toBeGreaterThanOrEqual(Math.ceil(expectedEvents / 5000) + 4);
    expect(await n(`SELECT count(*)::int AS n FROM ops_events WHERE kind = 'load:old' AND id > $1`, [base + 90_000])).toBe(10_000);
    expect(await n(`SELECT count(*)::int AS n FROM ops_events WHERE kind = 'load:old' AND mission_id = $1`, [runningMission])).toBe(500);
    expect(await n(`SELECT count(*)::int AS n FROM ops_events WHERE kind = 'load:new'`)).toBe(1000);
    expect(await n(`SELECT count(*)::int AS n FROM ops_step_runs WHERE mission_id = $1`, [runningMission])).toBeGreaterThanOrEqual(100);
    expect(await n(`SELECT count(*)::int AS n FROM ops_heartbeat_runs`)).toBe(1);
    expect(await n(`SELECT count(*)::int AS n FROM ops_schedule_runs WHERE outcome = 'running'`)).toBe(1);

    // Archived first: one JSON line per deleted event.
    const lines = gunzipSync(await fs.readFile(path.join(dir, result.archived!))).toString().trim().split('\n');
    expect(lines).toHaveLength(expectedEvents);
    expect(JSON.parse(lines[0]!)).toMatchObject({ kind: 'load:old', source: 'test' });

    // Nothing left to do: a second run deletes nothing.
    const again = await pruneRetention({ ...ops, pool: db.pool });
    expect(Object.values(again.pruned).every((v) => v === 0)).toBe(true);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, silentLogger } from '@opsloop/core';
import { createProposal } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps } from '../../../test/app.ts';
import type { JobRun, ScheduleJob } from '../src/scheduler/loadSchedule.ts';
import { createScheduler, manualWakeTimers, proposalFromJob, submitScheduledProposal, type Scheduler, type SchedulerOptions } from '../src/scheduler/scheduler.ts';
import { proposalJobOutcome, type InternalJobContext, type JobOutcome } from '../src/scheduler/jobs.ts';
import { jsonSummary } from '../src/scheduler/finishTick.ts';


let db: TestDatabase;
let clock: FakeClock;
const created: Scheduler[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  const leftRunning = created.filter((s) => s.isStarted() || s.runningJobs().length > 0);
  await Promise.all(created.splice(0).map((s) => s.stop(100)));
  await db.pool.query('TRUNCATE ops_schedule_runs, ops_proposals, ops_missions, ops_mission_steps, ops_events CASCADE');
  expect(leftRunning, 'a scheduler was left running').toHaveLength(0);
});
afterAll(async () => {
  await db?.drop();
});

function job(name: string, run: JobRun = { internal: name }, extra: Partial<ScheduleJob> = {}): ScheduleJob {
  return { name, cron: '*/5 * * * *', timezone: 'UTC', enabled: true, run, line: 1, ...extra };
}

type RunInternal = (name: string, ctx: InternalJobContext) => Promise<JobOutcome>;

/** A scheduler on the test clock whose internal jobs (any name the jobs use) call `runInternal`. */
function scheduler(o: Partial<SchedulerOptions> & Pick<SchedulerOptions, 'jobs'> & { runInternal?: RunInternal }): Scheduler {
  const { runInternal = async () => ({ status: 'succeeded', detail: 'ok' }), ...rest } = o;
  const names = new Set(o.jobs.flatMap((j) => ('internal' in j.run ? [j.run.internal] : [])));
  const s = createScheduler({
    prisma: db.prisma,
    pool: db.pool,
    clock,
    logger: silentLogger(),
    runner: 'replica-a',
    internalJobs: Object.fromEntries([...names].map((name) => [name, { run: (ctx: InternalJobContext) => runInternal(name, ctx) }])),
    submitProposal: async () => ({ status: 'succeeded', detail: 'submitted' }),
    timers: manualWakeTimers(),
    ...rest,
  });
  created.push(s);
  return s;
}

/** A job body the test holds "running" until it calls release(). */
function held(detail: unknown) {
  let release!: () => void;
  let markStarted!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const started = new Promise<void>((r) => (markStarted = r));
  let calls = 0;
  const run = async (): Promise<JobOutcome> => {
    calls++;
    markStarted();
    await gate;
    return { status: 'succeeded', detail };
  };
  return { run, release, started, calls: () => calls };
}

const rows = (jobName: string) =>
  db.prisma.opsScheduleRun.findMany({ where: { jobName }, orderBy: { scheduledFor: 'asc' } }).then((rs) => rs.map((r) => ({ ...r, id: String(r.id) })));

describe('runTick', () => {
  beforeAll(() => {
    clock = new FakeClock('2026-01-01T00:05:30Z');
  });

  it('runs an internal job and records it succeeded, at the tick\'s minute, with its owner', async () => {
    const calls: string[] = [];
    const hb = job('heartbeat');
    const s = scheduler({
      jobs: [hb],
      runInternal: async (name, ctx) => {
        calls.push(`${name}@${ctx.scheduledFor.toISOString()}/${ctx.cause}`);
        clock.advance(2000);
        return { status: 'succeeded', detail: { phases: 6, big: 12n, error: new Error('inner') } };
      },
    });
    const outcome = await s.runTick(hb, new Date('2026-01-01T00:05:00.734Z'));
    expect(outcome).toMatchObject({ outcome: 'succeeded' });
    expect(calls).toEqual(['heartbeat@2026-01-01T00:05:00.000Z/schedule']);
    const [row, ...more] = await rows('heartbeat');
    expect(more).toHaveLength(0);
    expect(row).toMatchObject({
      scheduledFor: new Date('2026-01-01T00:05:00Z'),
      runner: 'replica-a',
      cause: 'schedule',
      outcome: 'succeeded',
      reason: null,
      error: null,
      details: { phases: 6, big: '12', error: { error: 'inner' } },
    });
    expect(row!.ownerKey).toEqual(expect.any(Number));
    expect(row!.finishedAt!.getTime() - row!.startedAt.getTime()).toBe(2000);
  });

  it('a job that did nothing is recorded skipped with its reason, not succeeded', async () => {
    const quiet = job('quiet');
    const s = scheduler({ jobs: [quiet], runInternal: async () => ({ status: 'skipped', reason: 'no Slack webhook', detail: { date: '2025-12-31' } }) });
    expect(await s.runTick(quiet, new Date('2026-01-01T00:10:00Z'))).toMatchObject({ outcome: 'skipped', reason: 'no Slack webhook' });
    expect((await rows('quiet'))[0]).toMatchObject({ outcome: 'skipped', reason: 'no Slack webhook', details: { date: '2025-12-31' }, error: null });
  });

  it('records a throwing job as failed with its message only, and keeps going', async () => {
    let fail = true;
    const flaky = job('flaky');
    const s = scheduler({
      jobs: [flaky],
      runInternal: () => {
        if (fail) throw new Error('database exploded');
        return Promise.resolve({ status: 'succeeded', detail: 'fine' });
      },
    });
    expect(await s.runTick(flaky, new Date('2026-01-01T00:10:00Z'))).toMatchObject({ outcome: 'failed', error: 'database exploded' });
    fail = false;
    expect(await s.runTick(flaky, new Date('2026-01-01T00:15:00Z'))).toMatchObject({ outcome: 'succeeded', detail: 'fine' });
    const [failed, ok] = await rows('flaky');
    expect(failed).toMatchObject({ outcome: 'failed', error: 'database exploded', details: null });
    expect(failed!.finishedAt).not.toBeNull();
    expect(ok).toMatchObject({ outcome: 'succeeded', details: 'fine' });
  });

  it('two replicas ticking the same job at once: exactly one runs it, the other gets taken', async () => {
    let invocations = 0;
    const runInternal = async (): Promise<JobOutcome> => {
      invocations++;
      return { status: 'succeeded', detail: 'ran' };
    };
    const shared = job('shared');
    const a = scheduler({ jobs: [shared], runner: 'replica-a', runInternal });
    const b = scheduler({ jobs: [shared], runner: 'replica-b', runInternal });
    for (let i = 0; i < 10; i++) {
      const tick = new Date(Date.UTC(2026, 0, 1, 1, i * 5));
      const outcomes = await Promise.all([a.runTick(shared, tick), b.runTick(shared, tick)]);
      expect(outcomes.map((o) => o.outcome).sort()).toEqual(['succeeded', 'taken']);
    }
    expect(invocations).toBe(10);
    const recorded = await rows('shared');
    expect(recorded).toHaveLength(10);
    expect(recorded.every((r) => r.outcome === 'succeeded')).toBe(true);
  });

  it('a job still running in this process: the next tick is skipped and recorded, never run twice', async () => {
    const body = held('slow done');
    const slow = job('slow');
    const s = scheduler({ jobs: [slow], runInternal: body.run });
    const first = s.runTick(slow, new Date('2026-01-01T02:00:00Z'));
    await body.started;
    expect(s.runningJobs()).toEqual(['slow']);
    const second = await s.runTick(slow, new Date('2026-01-01T02:05:00Z'));
    expect(second).toMatchObject({ outcome: 'skipped', reason: 'previous run still running in this process' });
    body.release();
    expect(await first).toMatchObject({ outcome: 'succeeded', detail: 'slow done' });
    expect(body.calls()).toBe(1);
    expect((await rows('slow')).map((r) => [r.scheduledFor.toISOString(), r.outcome, r.reason, r.details])).toEqual([
      ['2026-01-01T02:00:00.000Z', 'succeeded', null, 'slow done'],
      ['2026-01-01T02:05:00.000Z', 'skipped', 'previous run still running in this process', null],
    ]);
    expect(s.runningJobs()).toEqual([]);
  });

  it('another live replica still running the previous tick: skipped, however long it takes', async () => {
    const body = held('done');
    const long = job('long');
    const a = scheduler({ jobs: [long], runner: 'replica-a', runInternal: body.run });
    let bCalls = 0;
    const b = scheduler({
      jobs: [long],
      runner: 'replica-b',
      runInternal: async () => {
        bCalls++;
        return { status: 'succeeded', detail: 'b ran' };
      },
    });
    clock.set('2026-01-01T03:00:01Z');
    const first = a.runTick(long, new Date('2026-01-01T03:00:00Z'));
    await body.started;
    clock.set('2026-01-01T03:05:01Z');
    expect(await b.runTick(long, new Date('2026-01-01T03:05:00Z'))).toMatchObject({ outcome: 'skipped', reason: 'previous run still running' });
    expect((await rows('long'))[1]).toMatchObject({
      runner: 'replica-b',
      outcome: 'skipped',
      reason: 'previous run still running',
      details: { runner: 'replica-a', scheduledFor: '2026-01-01T03:00:00+00:00' },
    });
    // Replica A is alive (its owner lock is held): hours later its run still blocks, and is not abandoned.
    clock.set('2026-01-01T06:00:00Z');
    expect(await b.runTick(long, new Date('2026-01-01T06:00:00Z'))).toMatchObject({ outcome: 'skipped' });
    expect(await b.markAbandoned()).toEqual([]);
    expect(bCalls).toBe(0);
    body.release();
    expect(await first).toMatchObject({ outcome: 'succeeded' });
    clock.set('2026-01-01T06:05:00Z');
    expect(await b.runTick(long, new Date('2026-01-01T06:05:00Z'))).toMatchObject({ outcome: 'succeeded', detail: 'b ran' });
  });

  it('submits a proposal job through the proposal entry point, once per tick across replicas; a deduplicated or rejected one is skipped', async () => {
    clock.set('2026-01-01T04:00:05Z');
    const ops = createOps(db, clock);
    const cycle = job('noop-cycle', { proposal: { title: 'No-op cycle', skill: 'ops_internal', dedupe: true, steps: [{ kind: 'ops.noop', params: {} }] } }, { cron: '*/10 * * * *' });
    const submitProposal = submitScheduledProposal(ops);
    const a = scheduler({ jobs: [cycle], runner: 'replica-a', submitProposal });
    const b = scheduler({ jobs: [cycle], runner: 'replica-b', submitProposal });
    const tick = new Date('2026-01-01T04:00:00Z');
    const outcomes = await Promise.all([a.runTick(cycle, tick), b.runTick(cycle, tick)]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['succeeded', 'taken']);
    const proposals = await db.prisma.opsProposal.findMany();
    expect(proposals).toHaveLength(1);
    expect(proposals[0]).toMatchObject({ source: 'schedule', proposedBy: 'scheduler', dedupeKey: 'schedule:noop-cycle:2026-01-01T04:00:00.000Z' });
    const [row] = await rows('noop-cycle');
    expect(row!.details).toMatchObject({ created: true, proposalId: proposals[0]!.id, status: proposals[0]!.status });

    // The same tick submitted again (say, its row was lost): the dedupe hit makes nothing new.
    const again = proposalJobOutcome(await createProposal(ops, proposalFromJob(cycle, tick)));
    expect(again).toMatchObject({ status: 'skipped', reason: `deduplicated: proposal ${proposals[0]!.id} already exists for this tick` });

    // Skill switched off: the gates reject the proposal, and the tick says so.
    await db.pool.query(`UPDATE ops_policy SET value = '{"enabled": false}' WHERE key = 'ops_internal'`);
    const next = await a.runTick(cycle, new Date('2026-01-01T04:10:00Z'));
    expect(next).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/^proposal rejected: /) });
    expect((await rows('noop-cycle'))[1]).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/^proposal rejected: .*ops_internal/) });
    await db.pool.query(`UPDATE ops_policy SET value = '{"enabled": true}' WHERE key = 'ops_internal'`);
  });

  it('refuses new ticks once stopping, and stop() waits for running ones', async () => {
    const body = held('finished');
    const j = job('stoppable');
    const s = scheduler({ jobs: [j], runInternal: body.run });
    const tick = s.runTick(j, new Date('2026-01-01T05:00:00Z'));
    await body.started;
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    expect(await s.runTick(j, new Date('2026-01-01T05:05:00Z'))).toEqual({ outcome: 'skipped', runId: null, reason: 'scheduler stopping' });
    await Promise.resolve();
    expect(stopped).toBe(false);
    body.release();
    await stopping;
    expect(await tick).toMatchObject({ outcome: 'succeeded' });
    expect((await rows('stoppable')).map((r) => r.outcome)).toEqual(['succeeded']);
  });

  it('stop() aborts a tick that outlives the grace period, and records it failed', async () => {
    const j = job('stubborn');
    let markStarted!: () => void;
    const started = new Promise<void>((r) => (markStarted = r));
    const s = scheduler({
      jobs: [j],
      runInternal: (_name, { signal }) =>
        new Promise((_resolve, reject) => {
          markStarted();
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    });
    const tick = s.runTick(j, new Date('2026-01-01T05:10:00Z'));
    await started;
    await s.stop(10);
    expect(await tick).toMatchObject({ outcome: 'failed', error: 'scheduler stopping' });
    expect((await rows('stubborn'))[0]).toMatchObject({ outcome: 'failed', error: 'scheduler stopping' });
  });
});

describe('runNow', () => {
  it('runs a job now, recorded like a tick with cause manual and who asked; refused while it runs; unknown job is a NotFoundError', async () => {
    clock = new FakeClock('2026-01-01T08:03:17.250Z');
    const body = held('manual done');
    const j = job('on-demand', { internal: 'on-demand' }, { enabled: false });
    const s = scheduler({ jobs: [j], runInternal: body.run });
    const run = await s.runNow('on-demand', { by: 'operator@example' });
    expect(run).toMatchObject({ outcome: 'started', scheduledFor: new Date('2026-01-01T08:03:17.250Z') });
    await body.started;
    clock.advance(1000);
    expect(await s.runNow('on-demand', { by: 'someone-else' })).toMatchObject({ outcome: 'skipped', reason: 'previous run still running in this process' });
    body.release();
    expect(await (run as { done: Promise<unknown> }).done).toMatchObject({ outcome: 'succeeded', detail: 'manual done' });
    const recorded = await rows('on-demand');
    expect(recorded.map((r) => [r.cause, r.requestedBy, r.outcome])).toEqual([
      ['manual', 'operator@example', 'succeeded'],
      ['manual', 'someone-else', 'skipped'],
    ]);
    await expect(s.runNow('nope', { by: 'x' })).rejects.toMatchObject({ name: 'NotFoundError' });
  });
});

describe('status', () => {
  it('shows each job with its catch-up rule, last run and its next run from the clock', async () => {
    clock = new FakeClock('2026-01-01T06:00:00Z');
    const hb = job('heartbeat', { internal: 'heartbeat' }, { cron: '*/5 * * * *' });
    const daily = job('ops-daily-summary', { internal: 'ops-daily-summary' }, { cron: '0 6 * * *', timezone: 'Asia/Tokyo', catchUp: 'latest' });
    const scout = job('diagnosis', { proposal: { title: 'Diagnose failures', skill: 'ops_internal', dedupe: true, steps: [{ kind: 'ops.diagnose_failures', params: { window_minutes: 180 } }] } }, { cron: '15 */3 * * *' });
    const off = job('off', { internal: 'heartbeat' }, { enabled: false });
    const body = held('later');
    const s = scheduler({
      jobs: [hb, daily, scout, off],
      runInternal: async (name) => {
        if (name === 'heartbeat') throw new Error('phase budget exceeded');
        return body.run();
      },
    });
    await s.runTick(hb, new Date('2026-01-01T05:55:00Z'));
    clock.set('2026-01-01T06:00:02Z');
    await s.runTick(hb, new Date('2026-01-01T06:00:00Z'));
    const dailyTick = s.runTick(daily, new Date('2026-01-01T06:00:00Z'));
    await body.started;
    clock.set('2026-01-01T06:07:00Z');

    const status = await s.status();
    expect(status.map((j) => [j.name, j.run, j.target, j.enabled, j.catchUp, j.running, j.nextRunAt?.toISOString() ?? null])).toEqual([
      ['heartbeat', 'internal', 'heartbeat', true, 'none', false, '2026-01-01T06:10:00.000Z'],
      ['ops-daily-summary', 'internal', 'ops-daily-summary', true, 'latest', true, '2026-01-01T21:00:00.000Z'],
      ['diagnosis', 'proposal', 'Diagnose failures', true, 'none', false, '2026-01-01T06:15:00.000Z'],
      ['off', 'internal', 'heartbeat', false, 'none', false, null],
    ]);
    expect(status[0]!.lastRun).toEqual({
      scheduledFor: new Date('2026-01-01T06:00:00Z'),
      runner: 'replica-a',
      cause: 'schedule',
      requestedBy: null,
      outcome: 'failed',
      reason: null,
      error: 'phase budget exceeded',
      startedAt: new Date('2026-01-01T06:00:02Z'),
      finishedAt: new Date('2026-01-01T06:00:02Z'),
    });
    expect(status[1]!.lastRun).toMatchObject({ outcome: 'running', finishedAt: null });
    expect(status[2]!.lastRun).toBeNull();
    expect(status[0]).toMatchObject({ cron: '*/5 * * * *', timezone: 'UTC' });
    body.release();
    await dailyTick;
  });
});

describe('proposalFromJob', () => {
  const template = { title: 'Diagnose failures', skill: 'ops_internal', dedupe: true, steps: [{ kind: 'ops.diagnose_failures', params: { window_minutes: 180 } }] };

  it('builds the single entry point\'s input with a per-tick dedupe key', () => {
    const j = job('diagnosis', { proposal: template });
    const input = proposalFromJob(j, new Date('2026-01-01T03:15:00Z'));
    expect(input).toEqual({
      title: 'Diagnose failures',
      skill: 'ops_internal',
      source: 'schedule',
      proposedBy: 'scheduler',
      dedupeKey: 'schedule:diagnosis:2026-01-01T03:15:00.000Z',
      steps: [{ kind: 'ops.diagnose_failures', params: { window_minutes: 180 } }],
    });
    expect(input.steps[0]).not.toBe(template.steps[0]);
    expect(proposalFromJob(job('x', { proposal: { ...template, dedupe: false } }), new Date()).dedupeKey).toBeUndefined();
    expect(() => proposalFromJob(job('hb', { internal: 'heartbeat' }), new Date())).toThrow(/internal job/);
  });
});

describe('jsonSummary', () => {
  it('keeps small results, stringifies bigints, cuts cycles and truncates large results', () => {
    expect(jsonSummary(undefined)).toBeNull();
    expect(jsonSummary({ a: 1n })).toBe('{"a":"1"}');
    const cyclic: Record<string, unknown> = { name: 'c' };
    cyclic.self = cyclic;
    expect(JSON.parse(jsonSummary(cyclic)!)).toEqual({ name: 'c', self: '[Circular]' });
    const big = JSON.parse(jsonSummary({ text: 'x'.repeat(10_000) }, 1000)!);
    expect(big).toMatchObject({ truncated: true, bytes: 10_011 });
    expect(Buffer.byteLength(JSON.stringify(big))).toBeLessThanOrEqual(1000);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger, FakeClock, silentLogger } from '@opsloop/core';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import type { ScheduleJob } from '../src/scheduler/loadSchedule.ts';
import { createScheduler, manualWakeTimers, realWakeTimers, type Scheduler, type SchedulerOptions } from '../src/scheduler/scheduler.ts';
import type { InternalJobContext, InternalJobs, JobOutcome } from '../src/scheduler/jobs.ts';

let db: TestDatabase;
const created: Scheduler[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await Promise.all(created.splice(0).map((s) => s.stop(100)));
  await db.pool.query('TRUNCATE ops_schedule_runs');
});
afterAll(async () => {
  await db?.drop();
});

function job(name: string, cron: string, timezone = 'UTC', extra: Partial<ScheduleJob> = {}): ScheduleJob {
  return { name, cron, timezone, enabled: true, run: { internal: name }, line: 1, ...extra };
}

/** Internal jobs for `jobs` that log each run as `job@tick/cause` into `runs`. */
function recording(jobs: ScheduleJob[], runs: string[], defaults: Record<string, 'latest' | 'none'> = {}): InternalJobs {
  return Object.fromEntries(
    jobs.map((j) => [
      j.name,
      {
        catchUp: defaults[j.name],
        run: async (ctx: InternalJobContext): Promise<JobOutcome> => {
          runs.push(`${ctx.jobName}@${ctx.scheduledFor.toISOString()}/${ctx.cause}`);
          return { status: 'succeeded' };
        },
      },
    ]),
  );
}

function replica(clock: FakeClock, o: Pick<SchedulerOptions, 'jobs' | 'internalJobs'> & Partial<SchedulerOptions>) {
  const timers = manualWakeTimers();
  const s = createScheduler({
    prisma: db.prisma,
    pool: db.pool,
    clock,
    logger: silentLogger(),
    runner: 'replica-a',
    submitProposal: () => Promise.reject(new Error('no proposal jobs')),
    timers,
    ...o,
  });
  created.push(s);
  return { s, timers };
}

/**
 * Lets the replicas' own wake-ups drive time up to `until`: each step moves the clock to
 * the earliest wake-up any of them asked for and runs all of them at once, as replicas
 * whose timers fire together would.
 */
async function wakeUntil(clock: FakeClock, replicas: ReturnType<typeof replica>[], until: string) {
  const end = new Date(until).getTime();
  for (let steps = 0; steps < 10_000; steps++) {
    const delay = Math.min(...replicas.map((r) => r.timers.delays.at(-1)!));
    if (clock.now().getTime() + delay > end) {
      clock.set(until);
      return;
    }
    clock.advance(delay);
    await Promise.all(replicas.map((r) => r.s.checkDue()));
  }
  throw new Error('too many wake-ups');
}

const ticks = async (jobName: string) =>
  (await db.prisma.opsScheduleRun.findMany({ where: { jobName }, orderBy: { scheduledFor: 'asc' } })).map((r) => r.scheduledFor.toISOString());

describe('wake-ups follow the injected clock across DST', () => {
  // A large maxWakeMs lets each wake-up land on the next tick, so a day takes a few steps.
  const day = { maxWakeMs: 86_400_000 };

  it('America/New_York spring-forward (2026-03-08): the 02:30 job runs at 03:00 EDT once; half-hourly ticks skip the gap', async () => {
    const clock = new FakeClock('2026-03-08T05:00:00Z'); // 00:00 EST
    const jobs = [job('fixed-0230', '30 2 * * *', 'America/New_York'), job('half-hourly', '*/30 * * * *', 'America/New_York')];
    const runs: string[] = [];
    const r = replica(clock, { jobs, internalJobs: recording(jobs, runs), ...day });
    await r.s.start();
    await wakeUntil(clock, [r], '2026-03-08T08:59:00Z');
    expect(await ticks('fixed-0230')).toEqual(['2026-03-08T07:00:00.000Z']);
    expect(await ticks('half-hourly')).toEqual([
      '2026-03-08T05:30:00.000Z',
      '2026-03-08T06:00:00.000Z',
      '2026-03-08T06:30:00.000Z', // 01:30 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT
      '2026-03-08T07:30:00.000Z',
      '2026-03-08T08:00:00.000Z',
      '2026-03-08T08:30:00.000Z',
    ]);
    expect(runs).toHaveLength(8);
    // The wake-ups asked for exactly the time to the next tick.
    expect(r.timers.delays.slice(0, 3)).toEqual([30 * 60_000, 30 * 60_000, 30 * 60_000]);
  });

  it('America/New_York fall-back (2026-11-01): the 01:30 job runs once; hourly ticks run on both 01:00s', async () => {
    const clock = new FakeClock('2026-11-01T04:00:00Z'); // 00:00 EDT
    const jobs = [job('fixed-0130', '30 1 * * *', 'America/New_York'), job('hourly', '0 * * * *', 'America/New_York')];
    const r = replica(clock, { jobs, internalJobs: recording(jobs, []), ...day });
    await r.s.start();
    await wakeUntil(clock, [r], '2026-11-01T08:59:00Z');
    expect(await ticks('fixed-0130')).toEqual(['2026-11-01T05:30:00.000Z']);
    expect(await ticks('hourly')).toEqual(['2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z', '2026-11-01T07:00:00.000Z', '2026-11-01T08:00:00.000Z']);
  });

  it('Asia/Tokyo: the 06:00 summary stays at 21:00 UTC through the US changes, and Tokyo\'s own 1949 DST follows the same rules', async () => {
    const clock = new FakeClock('2026-03-06T22:00:00Z');
    const summary = [job('summary', '0 6 * * *', 'Asia/Tokyo')];
    const r = replica(clock, { jobs: summary, internalJobs: recording(summary, []), ...day });
    await r.s.start();
    await wakeUntil(clock, [r], '2026-03-10T00:00:00Z');
    expect(await ticks('summary')).toEqual(['2026-03-07T21:00:00.000Z', '2026-03-08T21:00:00.000Z', '2026-03-09T21:00:00.000Z']);
    await r.s.stop();

    // 1949-04-03 00:00 JST -> 01:00 JDT, and 1949-09-11 01:00 JDT -> 00:00 JST.
    for (const [from, until, fixed, interval] of [
      ['1949-04-02T14:00:00Z', '1949-04-02T16:59:00Z', ['1949-04-02T15:00:00.000Z'], ['1949-04-02T14:30:00.000Z', '1949-04-02T15:00:00.000Z', '1949-04-02T15:30:00.000Z', '1949-04-02T16:00:00.000Z', '1949-04-02T16:30:00.000Z']],
      ['1949-09-10T13:45:00Z', '1949-09-10T15:59:00Z', ['1949-09-10T14:30:00.000Z'], ['1949-09-10T14:00:00.000Z', '1949-09-10T14:30:00.000Z', '1949-09-10T15:00:00.000Z', '1949-09-10T15:30:00.000Z']],
    ] as const) {
      clock.set(from);
      const jobs = [job(`tokyo-0030-${from.slice(5, 7)}`, '30 0 * * *', 'Asia/Tokyo'), job(`tokyo-half-${from.slice(5, 7)}`, '*/30 * * * *', 'Asia/Tokyo')];
      const t = replica(clock, { jobs, internalJobs: recording(jobs, []), ...day });
      await t.s.start();
      await wakeUntil(clock, [t], until);
      expect(await ticks(jobs[0]!.name)).toEqual(fixed);
      expect(await ticks(jobs[1]!.name)).toEqual(interval);
      await t.s.stop();
    }
  });

  it('the wake-up never sleeps longer than maxWakeMs, and a late wake-up drops a catch_up: none tick but runs a latest one as catch_up', async () => {
    const clock = new FakeClock('2026-01-01T20:55:00Z');
    const jobs = [job('every-ten', '*/10 * * * *'), job('summary', '0 6 * * *', 'Asia/Tokyo', { catchUp: 'latest' })];
    const runs: string[] = [];
    const r = replica(clock, { jobs, internalJobs: recording(jobs, runs) });
    await r.s.start();
    expect(r.timers.delays).toEqual([30_000]);
    // The event loop (or the host) stalls for 12 minutes across 06:00 in Tokyo.
    clock.set('2026-01-01T21:07:00Z');
    await r.s.checkDue();
    expect(runs).toEqual(['summary@2026-01-01T21:00:00.000Z/catch_up']);
    clock.set('2026-01-01T21:10:00.250Z');
    await r.s.checkDue();
    expect(runs).toEqual(['summary@2026-01-01T21:00:00.000Z/catch_up', 'every-ten@2026-01-01T21:10:00.000Z/schedule']);
    expect(await ticks('every-ten')).toEqual(['2026-01-01T21:10:00.000Z']);
  });
});

describe('real timers', () => {
  it('a started scheduler wakes itself at the tick its clock says is next, and fires it', async () => {
    // A clock running in real time, one second before a minute boundary.
    const boundary = Math.ceil(Date.now() / 60_000) * 60_000 + 60_000;
    const offset = boundary - 1000 - Date.now();
    const clock = { now: () => new Date(Date.now() + offset) };
    const jobs = [job('every-minute', '* * * * *')];
    const runs: string[] = [];
    // Kept so a failure says what the scheduler did instead (a claim error, a dropped tick).
    const logs: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString().trim());
        done();
      },
    });
    const s = createScheduler({
      jobs,
      internalJobs: recording(jobs, runs),
      prisma: db.prisma,
      pool: db.pool,
      clock,
      logger: createLogger({ level: 'debug', destination }),
      runner: 'real-timers',
      submitProposal: () => Promise.reject(new Error('no proposal jobs')),
      timers: realWakeTimers,
    });
    created.push(s);
    await s.start();
    // The wake-up is due in a second; the rest of the window is for a machine busy with other test files.
    await vi.waitFor(() => expect(runs).not.toEqual([]), { timeout: 20_000, interval: 20 }).catch(() => undefined);
    expect(runs, `scheduler log:\n${logs.join('\n')}`).toEqual([`every-minute@${new Date(boundary).toISOString()}/schedule`]);
  });
});

describe('catch-up after downtime', () => {
  it('a restart across 06:00 runs the summary once, as catch_up, across three replicas and a second restart; missed catch_up: none ticks are dropped', async () => {
    const clock = new FakeClock('2026-01-01T20:50:00Z'); // 05:50 JST
    const jobs = [job('ops-daily-summary', '0 6 * * *', 'Asia/Tokyo'), job('engagement', '*/10 * * * *')];
    const runs: string[] = [];
    // The summary is `latest` by its internal job's default; the engagement cycle `none`.
    const internalJobs = recording(jobs, runs, { 'ops-daily-summary': 'latest' });

    // Day 1: a replica runs the 06:00 summary on time.
    const first = replica(clock, { jobs, internalJobs, maxWakeMs: 86_400_000 });
    await first.s.start();
    await wakeUntil(clock, [first], '2026-01-01T21:05:00Z');
    expect([...runs].sort()).toEqual(['engagement@2026-01-01T21:00:00.000Z/schedule', 'ops-daily-summary@2026-01-01T21:00:00.000Z/schedule']);
    runs.length = 0;

    // Day 2: down from 05:50 to 06:20 JST.
    clock.set('2026-01-02T20:50:00Z');
    await first.s.stop();
    clock.set('2026-01-02T21:20:00Z');
    const replicas = ['b', 'c', 'd'].map((name) => replica(clock, { jobs, internalJobs, runner: `replica-${name}` }));
    const started = await Promise.all(replicas.map((r) => r.s.start()));
    // One replica runs it. The others either lose the claim (`taken`) or, starting a moment
    // later, already see the tick recorded and have nothing to catch up (no outcome).
    const outcomes = started.flat().map((o) => o.outcome);
    expect(outcomes.filter((o) => o === 'succeeded')).toHaveLength(1);
    expect(outcomes.every((o) => o === 'succeeded' || o === 'taken')).toBe(true);
    expect(runs).toEqual(['ops-daily-summary@2026-01-02T21:00:00.000Z/catch_up']);
    const summaryRows = await db.prisma.opsScheduleRun.findMany({ where: { jobName: 'ops-daily-summary' }, orderBy: { scheduledFor: 'asc' } });
    expect(summaryRows.map((r) => [r.scheduledFor.toISOString(), r.cause, r.outcome])).toEqual([
      ['2026-01-01T21:00:00.000Z', 'schedule', 'succeeded'],
      ['2026-01-02T21:00:00.000Z', 'catch_up', 'succeeded'],
    ]);
    expect(await ticks('engagement')).toEqual(['2026-01-01T21:00:00.000Z']); // 21:00, 21:10 and 21:20 on day 2 were missed and dropped

    // Restarted again at 06:30: the summary has run; nothing to catch up.
    clock.set('2026-01-02T21:30:00Z');
    await Promise.all(replicas.map((r) => r.s.stop()));
    const again = replica(clock, { jobs, internalJobs, runner: 'replica-e' });
    expect(await again.s.start()).toEqual([]);
    expect(runs).toHaveLength(1);

    // The engagement cycle resumes with its next tick.
    clock.set('2026-01-02T21:40:00Z');
    await again.s.checkDue();
    expect(runs.at(-1)).toBe('engagement@2026-01-02T21:40:00.000Z/schedule');
  });

  it('a job that never ran has missed nothing: a first start at 06:20 does not fire the 06:00 summary', async () => {
    const clock = new FakeClock('2026-01-02T21:20:00Z');
    const jobs = [job('ops-daily-summary', '0 6 * * *', 'Asia/Tokyo', { catchUp: 'latest' })];
    const runs: string[] = [];
    const r = replica(clock, { jobs, internalJobs: recording(jobs, runs) });
    expect(await r.s.start()).toEqual([]);
    expect(runs).toEqual([]);
  });
});

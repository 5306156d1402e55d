import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, silentLogger } from '@opsloop/core';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import type { ScheduleJob } from '../src/scheduler/loadSchedule.ts';
import { createScheduler, manualWakeTimers, type Scheduler } from '../src/scheduler/scheduler.ts';
import type { JobOutcome } from '../src/scheduler/jobs.ts';
import { OWNER_LOCK_NAMESPACE } from '../src/scheduler/ownerSession.ts';

let db: TestDatabase;
const created: Scheduler[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(created.splice(0).map((s) => s.stop(100)));
  await db.pool.query('TRUNCATE ops_schedule_runs');
});
afterAll(async () => {
  await db?.drop();
});

const fiveMinutes = (name: string): ScheduleJob => ({ name, cron: '*/5 * * * *', timezone: 'UTC', enabled: true, run: { internal: name }, line: 1 });

function replica(clock: FakeClock, runner: string, jobs: ScheduleJob[], run: (jobName: string, tick: Date) => Promise<JobOutcome>) {
  const s = createScheduler({
    jobs,
    prisma: db.prisma,
    pool: db.pool,
    clock,
    logger: silentLogger(),
    runner,
    timers: manualWakeTimers(),
    submitProposal: () => Promise.reject(new Error('no proposal jobs')),
    internalJobs: Object.fromEntries(jobs.map((j) => [j.name, { run: ({ jobName, scheduledFor }: { jobName: string; scheduledFor: Date }) => run(jobName, scheduledFor) }])),
  });
  created.push(s);
  return s;
}

const rows = (jobName: string) => db.prisma.opsScheduleRun.findMany({ where: { jobName }, orderBy: { scheduledFor: 'asc' } });

/** A scheduler replica in its own process (fixtures/schedulerReplica.ts), driven line by line. */
function spawnReplica(runner: string, jobs: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('packages/ops/test/fixtures/schedulerReplica.ts'), db.url, runner, jobs], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const waiting: { match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as Record<string, unknown>;
    const i = waiting.findIndex((w) => w.match(message));
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(message);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    exited,
    /** Sends a command and resolves with the first answer `match` accepts. */
    ask(command: object, match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
      const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
        waiting.push({ match, resolve });
        void exited.then(() => reject(new Error(`replica ${runner} exited`)));
      });
      child.stdin!.write(JSON.stringify(command) + '\n');
      return answer;
    },
  };
}

describe('three replicas against one database', () => {
  it('in one process: every tick of every job runs exactly once', async () => {
    const clock = new FakeClock('2026-01-01T00:00:00Z');
    const jobs = [fiveMinutes('alpha'), fiveMinutes('beta')];
    const ran = new Map<string, string[]>();
    const run = async (jobName: string, tick: Date): Promise<JobOutcome> => {
      const key = `${jobName}@${tick.toISOString()}`;
      ran.set(key, [...(ran.get(key) ?? []), 'x']);
      return { status: 'succeeded' };
    };
    const replicas = ['a', 'b', 'c'].map((name) => replica(clock, `replica-${name}`, jobs, run));
    await Promise.all(replicas.map((s) => s.start()));
    for (let i = 1; i <= 12; i++) {
      clock.set(new Date(Date.UTC(2026, 0, 1, 0, i * 5, 0, 40 * i)));
      const outcomes = (await Promise.all(replicas.map((s) => s.checkDue()))).flat();
      expect(outcomes.map((o) => o.outcome).sort()).toEqual(['succeeded', 'succeeded', 'taken', 'taken', 'taken', 'taken']);
    }
    expect(ran.size).toBe(24);
    expect([...ran.values()].every((calls) => calls.length === 1)).toBe(true);
    for (const name of ['alpha', 'beta']) {
      const recorded = await rows(name);
      expect(recorded).toHaveLength(12);
      expect(recorded.every((r) => r.outcome === 'succeeded')).toBe(true);
    }
  });

  it('in three processes: every tick runs exactly once', async () => {
    const replicas = ['p1', 'p2', 'p3'].map((name) => spawnReplica(name, 'every-five'));
    await Promise.all(replicas.map((r) => r.ask({ cmd: 'start', at: '2026-01-01T00:00:00Z' }, (m) => m.event === 'started')));
    let ranTotal = 0;
    for (let i = 1; i <= 10; i++) {
      const at = new Date(Date.UTC(2026, 0, 1, 0, i * 5, 1)).toISOString();
      const answers = await Promise.all(replicas.map((r) => r.ask({ cmd: 'check', at }, (m) => m.event === 'checked' && m.at === at)));
      const ran = answers.reduce((sum, a) => sum + (a.ran as number), 0);
      expect(ran, `tick ${at}`).toBe(1);
      ranTotal += ran;
    }
    expect(ranTotal).toBe(10);
    const recorded = await rows('every-five');
    expect(recorded.map((r) => r.scheduledFor.getUTCMinutes())).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
    expect(recorded.every((r) => r.outcome === 'succeeded')).toBe(true);
    expect(new Set(recorded.map((r) => (r.details as { ranBy: string }).ranBy)).size).toBeGreaterThanOrEqual(1);
    for (const r of replicas) r.child.stdin!.end();
    await Promise.all(replicas.map((r) => r.exited));
  }, 60_000);
});

describe('abandoned runs', () => {
  it('a replica SIGKILLed mid-run: its tick is marked abandoned once its owner lock is gone, and stops blocking the job', async () => {
    const dying = spawnReplica('doomed', 'hang');
    await dying.ask({ cmd: 'start', at: '2026-01-01T00:00:00Z' }, (m) => m.event === 'started');
    await dying.ask({ cmd: 'check', at: '2026-01-01T00:05:00Z' }, (m) => m.event === 'running');
    expect((await rows('hang')).map((r) => r.outcome)).toEqual(['running']);

    const clock = new FakeClock('2026-01-01T00:10:00Z');
    let ran = 0;
    const survivor = replica(clock, 'survivor', [fiveMinutes('hang')], async () => {
      ran++;
      return { status: 'succeeded' };
    });
    // While the owner lives, its run blocks the job and is not abandoned.
    expect(await survivor.markAbandoned()).toEqual([]);
    expect(await survivor.runTick(fiveMinutes('hang'), clock.now())).toMatchObject({ outcome: 'skipped', reason: 'previous run still running' });

    dying.child.kill('SIGKILL');
    await dying.exited;
    // PostgreSQL ends the dead client's session (and its lock) once it notices the closed socket.
    await expect.poll(() => survivor.markAbandoned().then((gone) => gone.map((g) => [g.jobName, g.runner])), { timeout: 10_000, interval: 50 }).toEqual([['hang', 'doomed']]);
    const [abandoned] = await rows('hang');
    expect(abandoned).toMatchObject({ outcome: 'abandoned', reason: 'its scheduler (doomed) is gone', finishedAt: clock.now() });

    clock.set('2026-01-01T00:15:00Z');
    expect(await survivor.runTick(fiveMinutes('hang'), clock.now())).toMatchObject({ outcome: 'succeeded' });
    expect(ran).toBe(1);
  }, 60_000);

  it('in-process: a running tick whose owner session ends is abandoned by the next claim; a live owner that finishes later still records the truth', async () => {
    const clock = new FakeClock('2026-01-01T01:00:00Z');
    let release!: () => void;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const gate = new Promise<void>((r) => (release = r));
    const a = replica(clock, 'replica-a', [fiveMinutes('long')], async () => {
      started();
      await gate;
      return { status: 'succeeded', detail: 'finished after all' };
    });
    const first = a.runTick(fiveMinutes('long'), clock.now());
    await running;
    const [row] = await rows('long');
    // Replica A's owner connection is cut (as when its host dies or the network drops it).
    await db.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 2`,
      [OWNER_LOCK_NAMESPACE, row!.ownerKey],
    );
    clock.set('2026-01-01T01:05:00Z');
    const b = replica(clock, 'replica-b', [fiveMinutes('long')], async () => ({ status: 'succeeded', detail: 'b ran' }));
    await expect
      .poll(async () => (await b.runTick(fiveMinutes('long'), clock.advance(60_000))).outcome, { timeout: 10_000, interval: 20 })
      .toBe('succeeded');
    expect((await rows('long'))[0]).toMatchObject({ outcome: 'abandoned', reason: 'its scheduler (replica-a) is gone' });

    release();
    expect(await first).toMatchObject({ outcome: 'succeeded' });
    expect((await rows('long'))[0]).toMatchObject({ outcome: 'succeeded', details: 'finished after all' });
  });
});

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, FakeClock } from '@opsloop/core';
import { createScheduler } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { startTestApp, type TestApp } from '../../../test/app.ts';
import { EXIT } from '../src/exitCodes.ts';
import { runCli, runCliJson } from './runCli.ts';

let db: TestDatabase;
let app: TestApp;
let dir: string;
let scheduler: ReturnType<typeof createScheduler>;
beforeAll(async () => {
  db = await createTestDatabase();
  const clock = new FakeClock(new Date());
  scheduler = createScheduler({
    jobs: [{ name: 'nightly-report', cron: '0 3 * * *', timezone: 'UTC', enabled: true, run: { internal: 'heartbeat' }, line: 1 }],
    prisma: db.prisma,
    clock,
    logger: createLogger({ level: 'silent' }),
    runner: 'cli-test',
    pool: db.pool,
    internalJobs: { heartbeat: { run: async () => ({ status: 'succeeded' }) } },
    submitProposal: async () => ({ status: 'succeeded' }),
  });
  app = await startTestApp(db, { clock, scheduler });
  dir = await mkdtemp(path.join(tmpdir(), 'opsloop-cli-'));
});
afterAll(async () => {
  // A manual run takes the scheduler's owner lock (a pooled connection) until stop().
  await scheduler?.stop();
  await app?.close();
  await db?.drop();
});

const xPost = (text: string) => ({ title: `Post: ${text}`, skill: 'x_autopost', proposedBy: 'cli-test', steps: [{ kind: 'x.post', params: { text } }] });

async function proposalFile(body: unknown): Promise<string> {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(body));
  return file;
}

describe('opsloop CLI against a running service', () => {
  it('propose -f, proposals --pending, approve, mission, missions', async () => {
    const file = await proposalFile(xPost('hello from the CLI'));
    const proposed = await runCli(app.url, ['propose', '-f', file]);
    expect(proposed).toMatchObject({ code: 0, err: '' });
    expect(proposed.out).toMatch(/status\s+pending/);
    const id = /proposal\s+([0-9a-f-]{36})/.exec(proposed.out)![1]!;

    const pending = await runCli(app.url, ['proposals', '--pending']);
    expect(pending.code).toBe(0);
    expect(pending.out).toMatch(/^ID\s+STATUS\s+SKILL\s+TITLE/);
    expect(pending.out).toContain(id);

    const approved = await runCliJson<{ status: string; missionId: string }>(app.url, ['approve', id, '--by', 'ops-person']);
    expect(approved.status).toBe('approved');

    const again = await runCli(app.url, ['approve', id]);
    expect(again.code).toBe(EXIT.conflict);
    expect(again.err).toMatch(/^opsloop: .*\(conflict\)/);

    const mission = await runCli(app.url, ['mission', approved.missionId]);
    expect(mission.code).toBe(0);
    expect(mission.out).toMatch(/status\s+queued/);
    expect(mission.out).toContain('x.post');

    const missions = await runCliJson<{ items: { id: string }[] }>(app.url, ['missions', '--limit', '5']);
    expect(missions.items.map((m) => m.id)).toContain(approved.missionId);
  });

  it('reject with a reason; proposals --json lists it rejected', async () => {
    const file = await proposalFile(xPost('not this one'));
    const { proposal } = await runCliJson<{ proposal: { id: string } }>(app.url, ['propose', '-f', file]);
    const rejected = await runCli(app.url, ['reject', proposal.id, '--reason', 'off-brand']);
    expect(rejected.code).toBe(0);
    expect(rejected.out).toMatch(/reason\s+off-brand/);
    const list = await runCliJson<{ items: { id: string; status: string }[] }>(app.url, ['proposals', '--status', 'rejected']);
    expect(list.items.find((p) => p.id === proposal.id)?.status).toBe('rejected');
  });

  it('events: a trace told oldest first, with a kind pattern', async () => {
    const file = await proposalFile({ title: 'noop', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }] });
    const { proposal } = await runCliJson<{ proposal: { traceId: string } }>(app.url, ['propose', '-f', file]);
    const human = await runCli(app.url, ['events', '--trace', proposal.traceId]);
    expect(human.code).toBe(0);
    expect(human.out.split('\n')[0]).toMatch(/^ID\s+KIND\s+AT/);
    const kinds = (await runCliJson<{ items: { kind: string }[] }>(app.url, ['events', '--trace', proposal.traceId, '--kind', 'proposal:*'])).items.map((e) => e.kind);
    expect(kinds).toEqual(['proposal:created', 'proposal:approved']);
  });

  it('events --follow streams new events live until stopped; --since replays what came after an id', async () => {
    const abort = new AbortController();
    let out = '';
    const { run } = await import('../src/program.ts');
    // From the current end (--since), so nothing written before the stream opens is missed.
    const last = (await app.api.get('/api/ops/events?latest=true&limit=1')).body.items[0]?.id ?? 0;
    const following = run(['--json', 'events', '--follow', '--kind', 'proposal:*', '--since', String(last)], {
      io: { out: (s) => void (out += s), err: () => undefined },
      env: { OPSLOOP_URL: app.url, OPS_API_TOKEN: 'test-api-token-0123456789abcdef' },
      signal: abort.signal,
    });
    let traceId = '';
    await expect
      .poll(
        async () => {
          if (!traceId) {
            const file = await proposalFile({ title: 'followed', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }] });
            traceId = (await runCliJson<{ proposal: { traceId: string } }>(app.url, ['propose', '-f', file])).proposal.traceId;
          }
          return out.split('\n').filter((l) => l.includes(traceId)).map((l) => (JSON.parse(l) as { kind: string }).kind);
        },
        { timeout: 5000 },
      )
      .toEqual(['proposal:created', 'proposal:approved']);
    abort.abort();
    expect(await following).toBe(EXIT.ok);
    const first = JSON.parse(out.split('\n')[0]!) as { id: number };
    const replay = await runCliJson<{ items: { id: number }[] }>(app.url, ['events', '--since', String(first.id - 1), '--limit', '1']);
    expect(replay.items[0]!.id).toBe(first.id);
  });

  it('policy get, policy set shows the diff, a wrong type is refused with the field and exit 5', async () => {
    const all = await runCli(app.url, ['policy', 'get']);
    expect(all.code).toBe(0);
    expect(all.out).toContain('daily_quotas');
    const one = await runCliJson<{ key: string; value: { enabled: boolean } }>(app.url, ['policy', 'get', 'tiktok_autopost']);
    expect(one.value).toEqual({ enabled: false });

    const set = await runCli(app.url, ['policy', 'set', 'tiktok_autopost', '{"enabled": true}']);
    expect(set.code).toBe(0);
    expect(set.out).toContain('~ enabled: false -> true');

    const bad = await runCli(app.url, ['policy', 'set', 'tiktok_autopost', '{"enabled": "yes"}']);
    expect(bad.code).toBe(EXIT.invalid);
    expect(bad.err).toMatch(/value\.enabled: /);
    expect((await runCliJson<{ value: unknown }>(app.url, ['policy', 'get', 'tiktok_autopost'])).value).toEqual({ enabled: true });

    expect((await runCli(app.url, ['policy', 'get', 'no_such_key'])).code).toBe(EXIT.notFound);
    expect((await runCli(app.url, ['policy', 'set', 'tiktok_autopost', '{not json'])).code).toBe(EXIT.usage);
  });

  it('heartbeat --run, heartbeat, summary --date, schedule', async () => {
    const ran = await runCli(app.url, ['heartbeat', '--run']);
    expect(ran.code).toBe(0);
    expect(ran.out).toMatch(/evaluateTriggers\s+ok/);
    const last = await runCli(app.url, ['heartbeat']);
    expect(last.code).toBe(0);
    expect(last.out).toMatch(/status\s+(succeeded|partial)/);

    const summary = await runCliJson<{ date: string }>(app.url, ['summary', '--date', '2026-01-02']);
    expect(summary.date).toBe('2026-01-02');
    const badDate = await runCli(app.url, ['summary', '--date', 'yesterday']);
    expect(badDate.code).toBe(EXIT.invalid);
    expect(badDate.err).toContain('query.date');

    const schedule = await runCli(app.url, ['schedule']);
    expect(schedule.code).toBe(0);
    expect(schedule.out).toMatch(/nightly-report\s+0 3 \* \* \* UTC\s+yes\s+never/);
    const runNow = await runCli(app.url, ['schedule', 'run', 'nightly-report']);
    expect(runNow.code).toBe(0);
    expect(runNow.out).toMatch(/job\s+nightly-report/);
    // Run now answers once the run is claimed; it ends shortly after.
    await expect.poll(async () => (await runCli(app.url, ['schedule'])).out).toMatch(/nightly-report.*succeeded/);
    expect((await runCli(app.url, ['schedule', 'run', 'no-such-job'])).code).toBe(EXIT.notFound);
  });

  it('cancel a queued mission (twice: the second is a no-op), retry a failed one from its failed step', async () => {
    const noop = async () => {
      const file = await proposalFile({ title: 'to steer', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }, { kind: 'ops.noop', params: {} }] });
      return (await runCliJson<{ missionId: string }>(app.url, ['propose', '-f', file])).missionId;
    };
    const first = await noop();
    const cancelled = await runCli(app.url, ['cancel', first, '--reason', 'not today']);
    expect(cancelled.code).toBe(0);
    expect(cancelled.out).toMatch(/status\s+cancelled/);
    expect(cancelled.out).toMatch(/cancelled steps\s+2/);
    expect((await runCli(app.url, ['cancel', first])).out).toContain('already cancelled; nothing changed');

    const second = await noop();
    // Other tests left no-op steps queued too: claim them all and fail this mission's.
    const claim = await app.api.post('/api/ops/steps/claim', { workerId: 'cli-test', kinds: ['ops.noop'], max: 100, leaseSeconds: 30 });
    const step = claim.body.steps.find((s: { missionId: string }) => s.missionId === second);
    expect(step).toBeDefined();
    await app.api.post(`/api/ops/steps/${step.id}/fail`, { leaseToken: step.leaseToken, error: 'boom', retryable: false }).expect(200);
    expect((await runCliJson<{ mission: { status: string } }>(app.url, ['mission', second])).mission.status).toBe('failed');
    const retried = await runCli(app.url, ['retry', second]);
    expect(retried.code).toBe(0);
    expect(retried.out).toMatch(/from step\s+1/);
    expect(retried.out).toMatch(/requeued steps\s+2/);
    // A mission that is running again cannot be cancelled twice into a conflict, but a
    // succeeded one cannot be retried.
    expect((await runCli(app.url, ['retry', '00000000-0000-4000-8000-000000000000'])).code).toBe(EXIT.notFound);
  });

  it('triggers and catalog list what the server holds', async () => {
    await app.api
      .post('/api/ops/triggers', { name: 'cli-rule', event_kind: 'mission:failed', proposal_template: { title: 'Diagnose', skill: 'ops_internal', steps: [{ kind: 'ops.diagnose_failures', params: {} }] } })
      .expect(201);
    const triggers = await runCli(app.url, ['triggers']);
    expect(triggers.code).toBe(0);
    expect(triggers.out).toMatch(/cli-rule\s+mission:failed\s+yes\s+0\s+-/);
    const catalog = await runCli(app.url, ['catalog']);
    expect(catalog.code).toBe(0);
    expect(catalog.out).toMatch(/x\.post\s+x_autopost\s+external/);
    const json = await runCliJson<{ items: { kind: string; params: unknown }[] }>(app.url, ['catalog']);
    expect(json.items.find((k) => k.kind === 'x.post')?.params).toMatchObject({ type: 'object' });
  });

  it('usage, auth, not found and unreachable each have their exit code and one clear line', async () => {
    const usage = await runCli(app.url, ['proposals', '--status', 'lost']);
    expect(usage.code).toBe(EXIT.usage);
    expect(usage.err).toContain("argument 'lost' is invalid");
    expect((await runCli(app.url, ['no-such-command'])).code).toBe(EXIT.usage);
    expect((await runCli(app.url, ['propose', '-f', path.join(dir, 'missing.json')])).code).toBe(EXIT.usage);

    const auth = await runCli(app.url, ['missions'], { OPS_API_TOKEN: 'wrong-token' });
    expect(auth.code).toBe(EXIT.auth);
    expect(auth.err).toMatch(/^opsloop: .*\(unauthorized\)\n$/);
    expect((await runCli(app.url, ['missions'], { OPS_API_TOKEN: undefined })).err).toContain('OPS_API_TOKEN is not set');

    const missing = await runCli(app.url, ['mission', '00000000-0000-4000-8000-000000000000']);
    expect(missing.code).toBe(EXIT.notFound);

    const down = await runCli('http://127.0.0.1:1', ['missions']);
    expect(down.code).toBe(EXIT.unreachable);
    expect(down.err).toContain('cannot reach opsloop at http://127.0.0.1:1');

    const help = await runCli(app.url, ['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Exit codes:');
  });

  it('db migrate, rollback, seed against DATABASE_URL', async () => {
    const env = { DATABASE_URL: db.url, LOG_LEVEL: 'silent' };
    const rolled = await runCli(app.url, ['--json', 'db', 'rollback'], env);
    expect(rolled.code).toBe(0);
    const back = JSON.parse(rolled.out) as { from: number; to: number };
    expect(back.to).toBeLessThan(back.from);
    const migrated = await runCli(app.url, ['db', 'migrate'], env);
    expect(migrated.code).toBe(0);
    expect(migrated.out).toContain(`${back.to} -> ${back.from}`);
    const seeded = await runCli(app.url, ['db', 'seed'], env);
    expect(seeded.code).toBe(0);
    expect(seeded.out).toMatch(/^seeded: /);
    expect((await runCli(app.url, ['db', 'rollback', 'two'], env)).code).toBe(EXIT.usage);
  });
});

describe('the opsloop bin', () => {
  it('runs as a process and exits with the documented code', async () => {
    const { execFile } = await import('node:child_process');
    const bin = path.resolve(import.meta.dirname, '../bin/opsloop.js');
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [bin, 'mission', '00000000-0000-4000-8000-000000000000'], {
        env: { ...process.env, OPSLOOP_URL: app.url, OPS_API_TOKEN: 'test-api-token-0123456789abcdef' },
      }, (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }));
    });
    expect(result.stderr).toBe('opsloop: mission not found (not_found)\n');
    expect(result.code).toBe(EXIT.notFound);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createWorker, formatDailySummary, workloadHandlers, dailySummary, type Workload } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { startTestApp, type TestApp } from '../../../test/app.ts';

/** A second workload, defined entirely outside packages/ops. */
const echoPolicy = z.object({ enabled: z.boolean(), greeting: z.string().min(1).max(50).default('hello') }).strict();

declare module '@opsloop/ops' {
  interface PolicyValues {
    echo: z.infer<typeof echoPolicy>;
  }
}

const echoWorkload: Workload = {
  name: 'echo',
  stepKinds: [{ kind: 'echo.say', skill: 'echo', executor: 'builtin', timeoutSeconds: 10, params: z.object({ to: z.string().min(1).max(50) }).strict() }],
  policyKeys: [{ key: 'echo', schema: echoPolicy, default: { enabled: false, greeting: 'hello' }, description: 'Skill toggle and greeting of the echo workload.' }],
  summarySections: [
    {
      key: 'echo',
      async collect(db, { start, end }) {
        const [row] = await db.$queryRaw<{ said: number }[]>`SELECT count(*)::int AS said FROM ops_events WHERE kind = 'echo:said' AND created_at >= ${start} AND created_at < ${end}`;
        return { said: row!.said };
      },
      format: (v) => `Echo: ${(v as { said: number }).said} said`,
    },
  ],
  consolePages: [{ slug: 'echo', title: 'Echo', apiPath: '/echo/greeting?name=console' }],
  handlers: (ops) =>
    new Map([
      [
        'echo.say',
        async (params) => {
          const { echo } = await ops.policy.read(ops.prisma, ['echo']);
          await ops.prisma.opsEvent.create({ data: { kind: 'echo:said', source: 'echo', payload: { to: params.to as string }, createdAt: ops.clock.now() } });
          return { said: `${echo.greeting} ${String(params.to)}` };
        },
      ],
    ]),
  routes: (ops) => [
    {
      method: 'get',
      path: '/echo/greeting',
      summary: 'The greeting the echo workload would say',
      query: z.object({ name: z.string().min(1).max(50) }),
      async handle({ query }) {
        const { echo } = await ops.policy.read(ops.prisma, ['echo']);
        return { greeting: `${echo.greeting} ${(query as { name: string }).name}` };
      },
    },
  ],
};

let db: TestDatabase;
let app: TestApp;
beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db, { workloads: [echoWorkload] });
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('a second workload registers itself without touching packages/ops', () => {
  it('contributes a step kind with its handler, a policy key, a summary section, a route and a console page', async () => {
    const workloads = await app.api.get('/api/ops/workloads');
    expect(workloads.body.items.map((w: { name: string }) => w.name)).toEqual(['moltbook', 'echo']);
    expect(workloads.body.items[1]).toMatchObject({
      stepKinds: ['echo.say'],
      policyKeys: ['echo'],
      summarySections: ['echo'],
      consolePages: [{ slug: 'echo', title: 'Echo', apiPath: '/echo/greeting?name=console' }],
      routes: [{ method: 'GET', path: '/api/ops/echo/greeting', summary: expect.any(String) }],
    });

    // Its policy key: listed with its default before any row exists, validated on write.
    const listed = (await app.api.get('/api/ops/policy')).body.items.find((p: { key: string }) => p.key === 'echo');
    expect(listed).toMatchObject({ value: { enabled: false, greeting: 'hello' }, stored: false, description: expect.stringMatching(/echo workload/) });
    expect(listed.schema).toMatchObject({ type: 'object', properties: { enabled: { type: 'boolean' }, greeting: { type: 'string', maxLength: 50 } }, required: ['enabled'] });
    const wrong = await app.api.put('/api/ops/policy/echo', { value: { enabled: true, greeting: 5 } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.issues[0].path).toBe('value.greeting');
    expect((await app.api.put('/api/ops/policy/echo', { value: { enabled: true, greeting: 'hi' } })).status).toBe(200);

    // Its route, validated like the core's.
    expect((await app.api.get('/api/ops/echo/greeting?name=Ada')).body).toEqual({ greeting: 'hi Ada' });
    const bad = await app.api.get('/api/ops/echo/greeting');
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toBe('query.name');
    expect((await app.raw.get('/api/ops/echo/greeting?name=Ada')).status).toBe(401);

    // Its kind in the catalogue, and through the loop with its own handler.
    const catalog = (await app.api.get('/api/ops/catalog')).body.items.find((k: { kind: string }) => k.kind === 'echo.say');
    expect(catalog).toMatchObject({ source: 'echo', skill: 'echo', executor: 'builtin', timeoutSeconds: 10 });
    await app.api.put('/api/ops/policy/auto_approve', { value: { enabled: true, step_kinds: ['ops.*', 'echo.*'], never_step_kinds: [] } });
    const created = await app.api.post('/api/ops/proposal', { title: 'Say hi', skill: 'echo', steps: [{ kind: 'echo.say', params: { to: 'Ada' } }] });
    expect(created.body).toMatchObject({ status: 'approved' });
    const worker = createWorker({ deps: app.ops, handlers: workloadHandlers([echoWorkload], app.ops), pollMs: 20 });
    worker.start();
    try {
      await expect
        .poll(async () => (await app.api.get(`/api/ops/missions/${created.body.missionId}`)).body.mission.status, { timeout: 10_000, interval: 50 })
        .toBe('succeeded');
    } finally {
      await worker.stop(1000);
    }
    const mission = (await app.api.get(`/api/ops/missions/${created.body.missionId}`)).body.mission;
    expect(mission.steps[0].result).toEqual({ said: 'hi Ada' });

    // Its summary section, beside Moltbook's, in JSON and in Slack's text.
    const summary = (await app.api.get('/api/ops/summary/daily')).body;
    expect(summary.echo).toEqual({ said: 1 });
    expect(summary.moltbook).toMatchObject({ repliesSent: 0 });
    const text = formatDailySummary(await dailySummary({ ...app.ops, heartbeatWindowMinutes: 15 }), app.ops);
    expect(text).toMatch(/^Echo: 1 said$/m);
    expect(text).toMatch(/^Moltbook: 0 replies/m);
  });

  it('refuses a built-in kind without its handler at start-up', () => {
    const broken: Workload = { ...echoWorkload, name: 'broken', handlers: () => new Map() };
    expect(() => workloadHandlers([broken], app.ops)).toThrow(/echo.say has no handler/);
  });
});

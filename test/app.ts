import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import supertest from 'supertest';
import { createLogger, FakeClock, type Clock } from '@opsloop/core';
import { createEventHorizon, createOpsDeps, createOpsMetrics, type HeartbeatDeps, type OpsMetrics, type StepKindDefinition, type Workload } from '@opsloop/ops';
import { createApp, type AppDeps, type BackupApi } from '@opsloop/api';
import { moltbookWorkload } from '@opsloop/moltbook';
import type { TestDatabase } from './db.ts';

export const API_TOKEN = 'test-api-token-0123456789abcdef';
export const HEARTBEAT_TOKEN = 'test-heartbeat-token-0123456789ab';
export const VIEWER_TOKEN = 'test-viewer-token-0123456789abcdef';

export interface TestApp {
  url: string;
  /** supertest against the real listening server, with the API token set. */
  api: ReturnType<typeof authed>;
  raw: supertest.Agent;
  ops: ReturnType<typeof createOps>;
  metrics: OpsMetrics;
  clock: Clock;
  /** Every log line written so far, as text. */
  logs(): string;
  close(): Promise<void>;
}

export function createOps(db: TestDatabase, clock: Clock, extraKinds: StepKindDefinition[] = [], random?: () => number, workloads: Workload[] = []) {
  return createOpsDeps({
    db,
    clock,
    logger: createLogger({ level: 'silent' }),
    timeZone: 'Asia/Tokyo',
    workloads: [moltbookWorkload(), ...workloads],
    stepKinds: extraKinds,
    random,
  });
}

function authed(agent: supertest.Agent) {
  const auth = { Authorization: `Bearer ${API_TOKEN}` };
  return {
    get: (path: string) => agent.get(path).set(auth),
    post: (path: string, body?: object) => agent.post(path).set(auth).send(body),
    put: (path: string, body?: object) => agent.put(path).set(auth).send(body),
    patch: (path: string, body?: object) => agent.patch(path).set(auth).send(body),
    delete: (path: string) => agent.delete(path).set(auth),
  };
}

/** The real app on a real port, wired to a test database and (optionally) a fake clock. */
export async function startTestApp(
  db: TestDatabase,
  options: {
    clock?: Clock;
    random?: () => number;
    heartbeat?: Partial<HeartbeatDeps>;
    workloads?: Workload[];
    maxStreams?: number;
    keepAliveMs?: number;
    scheduler?: AppDeps['scheduler'];
    slack?: { signingSecret?: string };
    consolePages?: { slug: string; title: string; apiPath: string }[];
    consoleNow?: () => number;
    authFailuresPerMinute?: number;
    trustProxy?: boolean | number | string;
    backups?: BackupApi;
    metricsToken?: string;
  } = {},
): Promise<TestApp> {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  const clock = options.clock ?? new FakeClock(new Date());
  const metrics = createOpsMetrics({ pool: db.pool, clock });
  const ops = { ...createOps(db, clock, [], options.random, options.workloads), logger, observer: metrics.observer };
  const horizon = createEventHorizon({ pool: db.pool, url: db.url, logger });
  const app = createApp({
    db,
    logger,
    config: { BODY_LIMIT: '1mb', AUTH_FAILURES_PER_MINUTE: options.authFailuresPerMinute, TRUST_PROXY: options.trustProxy },
    tokens: { apiToken: API_TOKEN, heartbeatToken: HEARTBEAT_TOKEN },
    readiness: { notReadyReason: () => undefined },
    ops,
    heartbeat: { ...ops, pool: db.pool, ...options.heartbeat },
    metrics,
    metricsToken: options.metricsToken,
    backups: options.backups,
    scheduler: options.scheduler,
    slack: { signingSecret: options.slack?.signingSecret },
    eventStream: { horizon, maxStreams: options.maxStreams, keepAliveMs: options.keepAliveMs },
    console: { viewerToken: VIEWER_TOKEN, pages: options.consolePages, now: options.consoleNow },
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const raw = supertest.agent(url);
  return {
    url,
    raw,
    api: authed(raw),
    ops,
    clock,
    metrics,
    logs: () => lines.join(''),
    close: async () => {
      await horizon.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Row counts of every table, to prove a rejected request changed nothing. */
export async function rowCounts(db: TestDatabase): Promise<Record<string, number>> {
  const { rows } = await db.pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
  );
  const out: Record<string, number> = {};
  for (const { table_name } of rows) {
    const r = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table_name}"`);
    out[table_name] = r.rows[0]!.n;
  }
  return out;
}

export const noopProposal = (overrides: Record<string, unknown> = {}) => ({
  title: 'No-op work',
  skill: 'ops_internal',
  steps: [{ kind: 'ops.noop', params: {} }],
  ...overrides,
});

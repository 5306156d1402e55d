import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@opsloop/core';
import { createApp } from '@opsloop/api';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { API_TOKEN, createOps, HEARTBEAT_TOKEN, rowCounts, startTestApp, type TestApp } from '../../../test/app.ts';

/**
 * Hostile and careless input, sent to EVERY route the app has. The routes are discovered
 * from the Express router stack, so a route added later is covered by the generic
 * families at once, and this test fails until its own cases are listed in ROUTE_CASES.
 * Every answer must be a 4xx in the documented error format (its code listed in the
 * README), and no row of any table may change.
 */

interface BadCase {
  name: string;
  /** Appended to the path (e.g. `?since=0000-01-01`). */
  query?: string;
  /** Raw body text, sent as application/json. */
  body?: string;
  headers?: Record<string, string>;
  /** Replaces the route's path parameters. */
  params?: Record<string, string>;
  /** null: no Authorization header. (Default: the API token) */
  token?: string | null;
}

interface RouteCases {
  /** Valid path parameters, so a case's own input is what gets rejected. (Default: a random UUID each) */
  params?: Record<string, string>;
  cases: BadCase[];
}

const NUL = '\\u0000';
const LONE_SURROGATE = '\\ud800';
const DEPTH = 5000;
const deepArray = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;
const deepObject = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
const json = (value: unknown) => JSON.stringify(value);
const cursor = (text: string) => Buffer.from(text).toString('base64url');
const noop = (extra: Record<string, unknown> = {}) => ({ title: 'No-op', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }], ...extra });

const listCases: BadCase[] = [
  { name: 'since year 0000', query: '?since=0000-01-01' },
  { name: 'since year 0001', query: '?since=0001-01-01' },
  { name: 'since BC', query: '?since=-000001-01-01T00:00:00Z' },
  { name: 'since not a date', query: '?since=yesterday' },
  { name: 'cursor id not a UUID', query: `?cursor=${cursor('2026-01-01T00:00:00.000Z|abc')}` },
  { name: 'cursor time out of range', query: `?cursor=${cursor(`0000-01-01T00:00:00.000Z|${randomUUID()}`)}` },
  { name: 'cursor BC', query: `?cursor=${cursor(`-000001-01-01T00:00:00.000Z|${randomUUID()}`)}` },
  { name: 'cursor garbage', query: '?cursor=%00%00' },
  { name: 'limit 0', query: '?limit=0' },
  { name: 'skill NUL', query: '?skill=a%00' },
];

const deepBody = { name: 'JSON nested 5000 deep', body: `{"x":${deepArray}}` };

const ROUTE_CASES: Record<string, RouteCases> = {
  // Control API (issue 11).
  'GET /api/ops/events/stream': {
    cases: [
      { name: 'kind with a space', query: '?kind=a%20b' },
      { name: 'kind NUL', query: '?kind=a%00' },
      { name: 'trace id not a UUID', query: '?trace_id=abc' },
      { name: 'since_id negative', query: '?since_id=-1' },
      { name: 'Last-Event-ID not an id', headers: { 'last-event-id': 'abc' } },
    ],
  },
  'POST /api/ops/missions/:id/cancel': {
    cases: [
      { name: 'not a UUID', params: { id: 'abc' } },
      { name: 'NUL in reason', body: `{"reason":"no${NUL}"}` },
      { name: 'lone surrogate in by', body: `{"by":"a${LONE_SURROGATE}"}` },
      { name: 'unknown field', body: json({ force: true }) },
      deepBody,
    ],
  },
  'POST /api/ops/missions/:id/retry': {
    cases: [{ name: 'not a UUID', params: { id: 'abc' } }, { name: 'NUL in by', body: `{"by":"a${NUL}"}` }, { name: 'unknown field', body: json({ from: 2 }) }, deepBody],
  },
  'GET /api/ops/triggers': { cases: [] },
  'GET /api/ops/triggers/:id': { cases: [{ name: 'not a UUID', params: { id: 'abc' } }] },
  'POST /api/ops/triggers': {
    cases: [
      { name: 'not an object', body: '"rule"' },
      { name: 'bad condition', body: json({ name: 'r', event_kind: 'mission:failed', condition: { count_at_least: 0 }, proposal_template: noop() }) },
      { name: 'unknown step kind in template', body: json({ name: 'r', event_kind: 'mission:failed', proposal_template: noop({ steps: [{ kind: 'rocket.launch' }] }) }) },
      { name: 'NUL in description', body: json({ name: 'r', description: 'PLACEHOLDER', event_kind: 'x', proposal_template: noop() }).replace('PLACEHOLDER', `d${NUL}`) },
      { name: 'deep template', body: json({ name: 'r', event_kind: 'x', proposal_template: { x: 'PLACEHOLDER' } }).replace('"PLACEHOLDER"', deepArray) },
    ],
  },
  'PATCH /api/ops/triggers/:id': {
    cases: [{ name: 'not a UUID', params: { id: 'abc' } }, { name: 'negative cooldown', body: json({ cooldown_minutes: -1 }) }, { name: 'unknown field', body: json({ fire_count: 0 }) }, deepBody],
  },
  'POST /api/ops/triggers/:id/enable': { cases: [{ name: 'not a UUID', params: { id: 'abc' } }, { name: 'NUL in by', body: `{"by":"a${NUL}"}` }] },
  'POST /api/ops/triggers/:id/disable': { cases: [{ name: 'not a UUID', params: { id: 'abc' } }, { name: 'unknown field', body: json({ enabled: true }) }] },
  'DELETE /api/ops/triggers/:id': { cases: [{ name: 'not a UUID', params: { id: 'abc' } }] },
  'GET /api/ops/reactions': { cases: [{ name: 'status unknown', query: '?status=done' }, { name: 'before 0', query: '?before=0' }, { name: 'limit 0', query: '?limit=0' }] },
  'POST /api/ops/reactions/:id/requeue': { params: { id: '1' }, cases: [{ name: 'id not a number', params: { id: 'abc' } }, { name: 'id 0', params: { id: '0' } }, deepBody] },
  'GET /api/ops/alerts': { cases: [{ name: 'delivery status unknown', query: '?delivery_status=lost' }, { name: 'kind NUL', query: '?kind=a%00' }, { name: 'limit 0', query: '?limit=0' }] },
  'GET /api/ops/policy/history': { cases: [{ name: 'key NUL', query: '?key=a%00' }, { name: 'before negative', query: '?before=-1' }] },
  'POST /api/ops/schedule/:job/run': { params: { job: 'heartbeat' }, cases: [{ name: 'job name not allowed', params: { job: 'Bad_Name' } }, { name: 'NUL in by', body: `{"by":"a${NUL}"}` }] },
  'POST /api/ops/slack/interactions': {
    cases: [
      { name: 'no Slack signature', body: 'payload=%7B%7D', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      { name: 'forged signature', body: 'payload=%7B%7D', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': '1', 'x-slack-signature': 'v0=00' } },
    ],
  },
  'POST /api/ops/proposal': {
    cases: [
      { name: 'NUL in title', body: json(noop()).replace('"No-op"', `"No${NUL}op"`) },
      { name: 'lone surrogate in title', body: json(noop()).replace('"No-op"', `"No${LONE_SURROGATE}op"`) },
      { name: 'NUL in params', body: json(noop({ steps: [{ kind: 'ops.noop', params: { note: 'PLACEHOLDER' } }] })).replace('PLACEHOLDER', `a${NUL}b`) },
      { name: 'lone surrogate in params', body: json(noop({ steps: [{ kind: 'ops.noop', params: { note: 'PLACEHOLDER' } }] })).replace('PLACEHOLDER', `a${LONE_SURROGATE}`) },
      { name: 'NUL in a params key', body: json(noop({ steps: [{ kind: 'ops.noop', params: { PLACEHOLDER: 1 } }] })).replace('PLACEHOLDER', `k${NUL}`) },
      { name: 'NUL in dedupeKey', body: json(noop({ dedupeKey: 'PLACEHOLDER' })).replace('PLACEHOLDER', `d${NUL}`) },
      { name: 'NUL in proposedBy', body: json(noop({ proposedBy: 'PLACEHOLDER' })).replace('PLACEHOLDER', `p${NUL}`) },
      { name: 'NUL in step kind', body: json(noop({ steps: [{ kind: 'PLACEHOLDER', params: {} }] })).replace('PLACEHOLDER', `ops.noop${NUL}`) },
      { name: 'NUL in metadata', body: json(noop({ metadata: { note: 'PLACEHOLDER' } })).replace('PLACEHOLDER', NUL) },
      { name: 'deep params', body: json(noop({ steps: [{ kind: 'ops.noop', params: { note: 'PLACEHOLDER' } }] })).replace('"PLACEHOLDER"', deepArray) },
      { name: 'deep metadata', body: json(noop({ metadata: { x: 'PLACEHOLDER' } })).replace('"PLACEHOLDER"', deepObject) },
      { name: 'deep unknown field', body: json(noop({ x: 'PLACEHOLDER' })).replace('"PLACEHOLDER"', deepArray) },
      { name: 'body is a deep array', body: deepArray },
      { name: 'not an object', body: '"proposal"' },
    ],
  },
  'GET /api/ops/proposals': { cases: [...listCases, { name: 'status unknown', query: '?status=nope' }] },
  'GET /api/ops/missions': { cases: [...listCases, { name: 'status unknown', query: '?status=nope' }] },
  'GET /api/ops/proposals/:id': { cases: [{ name: 'not a UUID', params: { id: 'abc' } }] },
  'GET /api/ops/missions/:id': { cases: [{ name: 'not a UUID', params: { id: 'abc' } }] },
  'GET /api/ops/missions/:id/runs': { cases: [{ name: 'not a UUID', params: { id: 'abc' } }, { name: 'NUL in id', params: { id: 'a%00b' } }] },
  'POST /api/ops/policy/:key/check': {
    params: { key: 'daily_quotas' },
    cases: [
      { name: 'unknown key', params: { key: 'nope' } },
      { name: 'NUL in key', params: { key: 'daily%00quotas' } },
      { name: 'wrong type', body: json({ value: { 'x.post': 'ten' } }) },
      { name: 'NUL in a value string', body: `{"value":{"x.post${NUL}":1}}` },
      { name: 'no value', body: '{}' },
      { name: 'unknown field', body: json({ value: {}, changedBy: 'x' }) },
      { name: 'deep value', body: `{"value":${deepArray}}` },
    ],
  },
  'POST /api/ops/proposals/:id/approve': {
    cases: [{ name: 'NUL in by', body: json({ by: 'PLACEHOLDER' }).replace('PLACEHOLDER', `a${NUL}`) }, { name: 'lone surrogate in by', body: `{"by":"a${LONE_SURROGATE}"}` }, deepBody],
  },
  'POST /api/ops/proposals/:id/reject': {
    cases: [{ name: 'NUL in reason', body: `{"reason":"no${NUL}"}` }, { name: 'lone surrogate in reason', body: `{"reason":"no${LONE_SURROGATE}"}` }, deepBody],
  },
  'GET /api/ops/events': {
    cases: [
      { name: 'NUL in kind', query: '?kind=a%00b' },
      { name: 'since_id negative', query: '?since_id=-1' },
      { name: 'since_id huge', query: '?since_id=1e400' },
      { name: 'trace_id not a UUID', query: '?trace_id=x' },
      { name: 'latest not a boolean', query: '?latest=yes' },
      { name: 'limit too large', query: '?limit=100000' },
    ],
  },
  'GET /api/ops/events/:id': {
    cases: [
      { name: 'zero', params: { id: '0' } },
      { name: 'not a number', params: { id: 'abc' } },
      { name: 'beyond safe integers', params: { id: '99999999999999999999999' } },
    ],
  },
  'GET /api/ops/policy': { cases: [] },
  'PUT /api/ops/policy/:key': {
    params: { key: 'ops_monitor' },
    cases: [
      { name: 'NUL in key', params: { key: 'ops%00monitor' } },
      { name: 'unknown key', params: { key: 'nope' } },
      { name: 'NUL in a value string', params: { key: 'daily_quotas' }, body: `{"value":{"x.post${NUL}":1}}` },
      { name: 'lone surrogate in a value', params: { key: 'moltbook_engagement' }, body: `{"value":{"enabled":true,"persona_prompt":"${LONE_SURROGATE}"}}` },
      { name: 'deep value', body: `{"value":${deepArray}}` },
      { name: 'NUL in changedBy', body: `{"value":{"failure_threshold":5,"window_minutes":60,"cooldown_minutes":60,"heartbeat_missing_minutes":15},"changedBy":"a${NUL}"}` },
      { name: 'window beyond bounds', body: json({ value: { failure_threshold: 5, window_minutes: Number.MAX_SAFE_INTEGER, cooldown_minutes: 60, heartbeat_missing_minutes: 15 } }) },
    ],
  },
  'POST /api/ops/steps/claim': {
    cases: [
      { name: 'NUL in workerId', body: `{"workerId":"w${NUL}","kinds":["x.post"]}` },
      { name: 'NUL in kinds', body: `{"workerId":"w","kinds":["x.post${NUL}"]}` },
      { name: 'lone surrogate in workerId', body: `{"workerId":"w${LONE_SURROGATE}","kinds":["x.post"]}` },
      { name: 'lease too long', body: json({ workerId: 'w', kinds: ['x.post'], leaseSeconds: 1e9 }) },
      deepBody,
    ],
  },
  'POST /api/ops/steps/:id/heartbeat': { cases: [{ name: 'lease token not a UUID', body: '{"leaseToken":"x"}' }, { name: 'lease too long', body: json({ leaseToken: randomUUID(), leaseSeconds: 1e9 }) }, deepBody] },
  'POST /api/ops/steps/:id/complete': {
    cases: [
      { name: 'NUL in result', body: `{"leaseToken":"${randomUUID()}","result":{"text":"a${NUL}"}}` },
      { name: 'lone surrogate in result', body: `{"leaseToken":"${randomUUID()}","result":"${LONE_SURROGATE}"}` },
      { name: 'deep result', body: `{"leaseToken":"${randomUUID()}","result":${deepObject}}` },
    ],
  },
  'POST /api/ops/steps/:id/fail': {
    cases: [
      { name: 'NUL in error', body: `{"leaseToken":"${randomUUID()}","error":"boom${NUL}"}` },
      { name: 'lone surrogate in error', body: `{"leaseToken":"${randomUUID()}","error":"boom${LONE_SURROGATE}"}` },
      { name: 'deep details', body: `{"leaseToken":"${randomUUID()}","error":"boom","details":${deepArray}}` },
    ],
  },
  'GET /api/ops/workers/status': { cases: [] },
  'POST /api/ops/heartbeat': { cases: [{ name: 'wrong token', token: 'not-the-token' }] },
  'GET /api/ops/heartbeat/last': { cases: [] },
  'GET /api/ops/summary/daily': {
    cases: [
      { name: 'year 0000', query: '?date=0000-01-01' },
      { name: 'BC', query: '?date=-001-01-01' },
      { name: 'month 13', query: '?date=2026-13-01' },
      { name: 'NUL', query: '?date=%00' },
    ],
  },
  'GET /api/ops/schedule': { cases: [] },
  'GET /api/ops/catalog': { cases: [] },
  'GET /api/ops/workloads': { cases: [] },
  // Moltbook's routes read no input of their own: the generic families cover them.
  'GET /api/ops/moltbook': { cases: [] },
  'POST /api/ops/moltbook/breaker/reset': { cases: [] },
  'GET /api/ops/catalog/kinds/:name': {
    params: { name: 'nope.kind' },
    cases: [
      { name: 'NUL in name', params: { name: 'x.post%00' } },
      { name: 'not a kind name', params: { name: 'X' } },
      { name: 'unknown kind', params: { name: 'nope.kind' } },
    ],
  },
  'POST /api/ops/catalog/kinds': {
    cases: [
      { name: 'NUL in name', body: `{"name":"blog.publish${NUL}","skill":"blog","paramsSchema":{"type":"object"}}` },
      { name: 'NUL in description', body: `{"name":"blog.publish","skill":"blog","description":"a${NUL}","paramsSchema":{"type":"object"}}` },
      { name: 'lone surrogate in description', body: `{"name":"blog.publish","skill":"blog","description":"a${LONE_SURROGATE}","paramsSchema":{"type":"object"}}` },
      { name: 'NUL in a schema key', body: `{"name":"blog.publish","skill":"blog","paramsSchema":{"type":"object","properties":{"a${NUL}":{"type":"string"}}}}` },
      { name: 'deep schema', body: `{"name":"blog.publish","skill":"blog","paramsSchema":{"type":"object","x":${deepObject}}}` },
      { name: 'schema that does not compile', body: '{"name":"blog.publish","skill":"blog","paramsSchema":{"type":"nope"}}' },
      { name: 'a code kind', body: '{"name":"ops.noop","skill":"ops_internal","paramsSchema":{"type":"object"}}' },
      deepBody,
    ],
  },
  'PUT /api/ops/catalog/kinds/:name': {
    params: { name: 'nope.kind' },
    cases: [
      { name: 'NUL in name', params: { name: 'x.post%00' } },
      { name: 'deep schema', body: `{"skill":"blog","paramsSchema":{"type":"object","x":${deepObject}}}` },
      { name: 'NUL in description', body: `{"skill":"blog","description":"${NUL}","paramsSchema":{"type":"object"}}` },
      { name: 'unknown kind', body: '{"skill":"blog","paramsSchema":{"type":"object"}}' },
    ],
  },
  'DELETE /api/ops/catalog/kinds/:name': {
    params: { name: 'nope.kind' },
    cases: [
      { name: 'NUL in name', params: { name: 'x.post%00' } },
      { name: 'unknown kind', params: { name: 'nope.kind' } },
    ],
  },
};

/** Routes outside /api/ops that read no input at all: nothing a client sends can be wrong. */
const READS_NO_INPUT = new Set(['GET /health', 'GET /ready', 'GET /api/openapi.json']);

/** Families every /api/ops route gets, whatever it is. */
function genericCases(path: string): BadCase[] {
  const out: BadCase[] = [
    { name: 'no token', token: null },
    ...(['gzip', 'deflate', 'br'] as const).map((encoding) => ({ name: `${encoding} body that does not decompress`, body: '{"not":"compressed"}', headers: { 'content-encoding': encoding } })),
    { name: 'unsupported content encoding', body: '{}', headers: { 'content-encoding': 'compress' } },
    { name: 'unsupported charset', body: '{}', headers: { 'content-type': 'application/json; charset=ebcdic' } },
    { name: 'malformed JSON', body: '{"a":' },
    { name: 'not JSON', body: 'hello', headers: { 'content-type': 'text/plain' } },
  ];
  for (const name of paramNames(path)) {
    for (const bad of ['%E0%A4%A', '%zz', '%']) out.push({ name: `malformed percent-encoding in :${name} (${bad})`, params: { [name]: bad } });
  }
  return out;
}

function paramNames(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: unknown;
}

/** Every METHOD /path of an Express 5 app, read from its router stack (nested routers too). */
function discoverRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') found.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
      } else if (layer.handle.stack) {
        if (typeof layer.rawPath !== 'string') throw new Error(`router mounted on a non-string path: ${String(layer.rawPath)}`);
        walk(layer.handle.stack, layer.rawPath === '/' ? prefix : `${prefix}${layer.rawPath}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  // The console's HTML pages are not API: console.auth.test.ts covers them (its
  // /console/api/* gateway leads to these same API routes).
  return [...new Set(found)].filter((r) => !/^[A-Z]+ \/console(\/|$)/.test(r)).sort();
}

/** The error codes the README documents (its "Error codes" table). */
function documentedCodes(): Set<string> {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('### Error codes');
  expect(start, 'README has an "### Error codes" section').toBeGreaterThan(-1);
  const section = readme.slice(start, readme.indexOf('\n## ', start) === -1 ? undefined : readme.indexOf('\n## ', start));
  return new Set([...section.matchAll(/^\| (\d{3}) \| `([a-z_]+)` \|/gm)].map((m) => m[2]!));
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** Raw HTTP (node:http), so malformed paths and bodies reach the server exactly as written. */
function send(base: string, method: string, path: string, c: BadCase): Promise<Answer> {
  const url = new URL(base);
  const headers: Record<string, string> = { ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}), ...c.headers };
  const token = c.token === undefined ? (path === '/api/ops/heartbeat' ? HEARTBEAT_TOKEN : API_TOKEN) : c.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const body = c.body === undefined ? undefined : Buffer.from(c.body);
  if (body) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path: `${path}${c.query ?? ''}`, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function fill(route: string, values: Record<string, string>): string {
  return route.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => values[name] ?? randomUUID());
}

let db: TestDatabase;
let app: TestApp;
let routes: string[];
beforeAll(async () => {
  db = await createTestDatabase();
  // A high failure budget: the no-token cases must answer 401 here; the throttle has its own test.
  app = await startTestApp(db, { authFailuresPerMinute: 10_000 });
  const ops = createOps(db, app.clock);
  routes = discoverRoutes(
    createApp({
      db,
      logger: createLogger({ level: 'silent' }),
      config: { BODY_LIMIT: '1mb' },
      tokens: { apiToken: API_TOKEN, heartbeatToken: HEARTBEAT_TOKEN },
      readiness: { notReadyReason: () => undefined },
      ops,
      heartbeat: { ...ops, pool: db.pool },
    }),
  );
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('bad input on every route', () => {
  it('discovers the routes from the router stack, and each has its input cases listed', () => {
    expect(routes).toContain('POST /api/ops/proposal');
    expect(routes).toContain('GET /api/ops/events/:id');
    const unlisted = routes.filter((r) => !ROUTE_CASES[r] && !READS_NO_INPUT.has(r));
    expect(unlisted, 'routes without an entry in ROUTE_CASES: list their bad inputs').toEqual([]);
    const stale = Object.keys(ROUTE_CASES).filter((r) => !routes.includes(r));
    expect(stale, 'ROUTE_CASES entries for routes that no longer exist').toEqual([]);
  });

  it('answers every case on every route with a documented 4xx JSON error and changes no row', async () => {
    const codes = documentedCodes();
    const failures: string[] = [];
    let sent = 0;
    for (const route of routes) {
      if (READS_NO_INPUT.has(route)) continue;
      const [method, path] = route.split(' ') as [string, string];
      const entry = ROUTE_CASES[route]!;
      const cases = [...(path.startsWith('/api/ops') ? genericCases(path) : []), ...entry.cases];
      expect(cases.length, `${route} has no bad-input case`).toBeGreaterThan(0);
      const before = await rowCounts(db);
      for (const c of cases) {
        const answer = await send(app.url, method, fill(path, { ...entry.params, ...c.params }), c);
        sent++;
        const where = `${route} [${c.name}] -> ${answer.status} ${answer.text.slice(0, 200)}`;
        let parsed: { error?: { code?: unknown; message?: unknown; requestId?: unknown } } | undefined;
        try {
          parsed = JSON.parse(answer.text) as typeof parsed;
        } catch {
          parsed = undefined;
        }
        const e = parsed?.error;
        if (answer.status < 400 || answer.status >= 500) failures.push(`status: ${where}`);
        else if (!answer.contentType.startsWith('application/json') || !e) failures.push(`not the error format: ${where}`);
        else if (typeof e.code !== 'string' || !codes.has(e.code)) failures.push(`code not documented in README: ${where}`);
        else if (typeof e.message !== 'string' || typeof e.requestId !== 'string') failures.push(`message/requestId missing: ${where}`);
      }
      const after = await rowCounts(db);
      if (JSON.stringify(after) !== JSON.stringify(before)) failures.push(`${route}: rows changed ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(150);
    expect(app.logs()).not.toContain('unhandled error');
  });
});

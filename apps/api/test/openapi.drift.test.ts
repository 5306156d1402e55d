import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Express } from 'express';
import supertest from 'supertest';
import { createLogger, FakeClock } from '@opsloop/core';
import { createApp } from '@opsloop/api';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps, startTestApp, type TestApp } from '../../../test/app.ts';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  slash?: boolean;
}

/**
 * Every METHOD path Express will answer, read from Express 5's own router layers.
 * Routers must be mounted at the root (routes carry full paths); a router mounted under
 * a prefix would hide its prefix from this walk, so it fails the test instead.
 */
function expressRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') out.push(`${method.toUpperCase()} ${path}`);
      } else if (layer.handle.stack) {
        if (!layer.slash) throw new Error('a router is mounted under a path prefix: register its routes with full paths instead');
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return out;
}

function documentedRoutes(document: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
  );
}

// HTML pages are not API: /docs is static middleware; the console's pages live under /console.
const isApi = (route: string) => !/^[A-Z]+ \/(console|docs)(\/|$)/.test(route);

describe('OpenAPI document', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp(db);
  });
  afterAll(async () => {
    await t.close();
    await db.drop();
  });

  it('documents exactly the routes Express serves', async () => {
    const ops = { ...createOps(db, new FakeClock(new Date())), logger: createLogger({ level: 'silent' }) };
    const app = createApp({
      db,
      logger: ops.logger,
      config: { BODY_LIMIT: '1mb' },
      tokens: { apiToken: 'a'.repeat(32), heartbeatToken: 'b'.repeat(32) },
      readiness: { notReadyReason: () => undefined },
      ops,
      heartbeat: { ...ops, pool: db.pool, heartbeatWindowMinutes: 15 },
      scheduler: { status: async () => [], runNow: async () => ({ outcome: 'taken' as const }) },
      // Every optional route group on, so each is compared with its documentation.
      metrics: t.metrics,
      backups: { run: async () => ({ status: 'skipped' as const, reason: 'not in this test' }), status: async () => ({}) as never },
    });
    const served = expressRoutes(app).filter(isApi).sort();
    const res = await supertest(app).get('/api/openapi.json').expect(200);
    const documented = documentedRoutes(res.body).sort();
    expect(served.length).toBeGreaterThan(15);
    expect(served.filter((r) => !documented.includes(r)), 'served but not documented').toEqual([]);
    expect(documented.filter((r) => !served.includes(r)), 'documented but not served').toEqual([]);
  });

  it('is OpenAPI 3.1 with request schemas from the zod schemas the routes validate with', async () => {
    const { body: doc } = await t.raw.get('/api/openapi.json').expect(200).expect('content-type', /json/);
    expect(doc.openapi).toBe('3.1.0');
    const claim = doc.paths['/api/ops/steps/claim'].post;
    const schema = claim.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(['workerId', 'kinds']);
    expect(schema.properties.leaseSeconds).toMatchObject({ type: 'integer', minimum: 5 });
    expect(claim.security).toEqual([{ apiToken: [] }]);
    expect(claim.responses['401'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    const missions = doc.paths['/api/ops/missions/{id}'].get;
    expect(missions.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    const list = doc.paths['/api/ops/proposals'].get.parameters.map((p: { name: string }) => p.name);
    expect(list).toEqual(expect.arrayContaining(['limit', 'cursor', 'since', 'skill', 'status']));
    // Every $ref resolves inside the document.
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of new Set(refs)) {
      const name = ref.slice('"$ref":"#/components/schemas/'.length, -1);
      expect(doc.components.schemas[name], ref).toBeDefined();
    }
  });

  it('serves the interactive reference and its assets from opsloop itself', async () => {
    const page = await t.raw.get('/docs/').expect(200).expect('content-type', /html/);
    expect(page.text).toContain('/docs/assets/swagger-ui-bundle.js');
    expect(page.text).not.toMatch(/https?:\/\//);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    await t.raw.get('/docs/assets/swagger-ui-bundle.js').expect(200).expect('content-type', /javascript/);
    await t.raw.get('/docs/init.js').expect(200);
    await t.raw.get('/docs').expect(301);
  });
});

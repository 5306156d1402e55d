import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { rowCounts, startTestApp, type TestApp } from '../../../test/app.ts';

let db: TestDatabase;
let app: TestApp;
beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db);
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

const blogPublish = {
  name: 'blog.publish',
  skill: 'blog_writer',
  description: 'Publish a post on the company blog.',
  timeoutSeconds: 120,
  maxAttempts: 2,
  paramsSchema: {
    type: 'object',
    properties: {
      title: { type: 'string', minLength: 1, maxLength: 80 },
      body: { type: 'string', minLength: 1 },
      tags: { type: 'array', items: { type: 'string' }, maxItems: 5, default: [] },
    },
    required: ['title', 'body'],
    additionalProperties: false,
  },
};

const propose = (params: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  app.api.post('/api/ops/proposal', { title: 'Publish the launch post', skill: 'blog_writer', steps: [{ kind: 'blog.publish', params }], ...extra });

const paths = (res: { body: { error: { issues: { path: string; message: string }[] } } }) => res.body.error.issues.map((i) => i.path);

describe('an operator registers an external step kind without a code change', () => {
  it('refuses invalid registrations with 400/409 naming the problem, and changes nothing', async () => {
    const before = await rowCounts(db);
    const cases: [string, object, number, string, RegExp][] = [
      ['unknown type', { ...blogPublish, paramsSchema: { type: 'object', properties: { title: { type: 'strin' } } } }, 400, 'paramsSchema', /params schema is invalid: .*type/],
      ['typo in a keyword', { ...blogPublish, paramsSchema: { type: 'object', properties: { title: { type: 'string', maxLenght: 3 } } } }, 400, 'paramsSchema', /unknown keyword: "maxLenght"/],
      ['unknown format', { ...blogPublish, paramsSchema: { type: 'object', properties: { at: { type: 'string', format: 'moment' } } } }, 400, 'paramsSchema', /unknown format "moment"/],
      ['unresolvable $ref', { ...blogPublish, paramsSchema: { type: 'object', properties: { a: { $ref: 'https://example.com/s.json' } } } }, 400, 'paramsSchema', /resolve reference/],
      ['root not an object schema', { ...blogPublish, paramsSchema: { type: 'array' } }, 400, 'paramsSchema', /"type": "object"/],
      ['bad name', { ...blogPublish, name: 'Blog Publish' }, 400, 'name', /step kind name/],
      ['skill that is a policy key', { ...blogPublish, skill: 'daily_quotas' }, 400, 'skill', /policy key, not a skill/],
      ['unknown field', { ...blogPublish, retries: 3 }, 400, '(root)', /retries/],
      ['timeout out of range', { ...blogPublish, timeoutSeconds: 0 }, 400, 'timeoutSeconds', /./],
      ['a code namespace', { ...blogPublish, name: 'ops.custom' }, 400, 'name', /"ops\." is the namespace of kinds defined in code/],
      ['a workload namespace', { ...blogPublish, name: 'moltbook.dm' }, 400, 'name', /namespace/],
      ['NUL in the schema', { ...blogPublish, paramsSchema: { type: 'object', description: 'a\u0000b' } }, 400, 'paramsSchema.description', /NUL/],
      ['NUL in the description', { ...blogPublish, description: 'a\u0000b' }, 400, 'description', /NUL/],
    ];
    for (const [label, body, status, path, message] of cases) {
      const res = await app.api.post('/api/ops/catalog/kinds', body);
      expect(res.status, label).toBe(status);
      expect(res.body.error.code, label).toBe('validation_failed');
      const issue = res.body.error.issues.find((i: { path: string }) => i.path === path);
      expect(issue, `${label}: ${JSON.stringify(res.body.error.issues)}`).toBeDefined();
      expect(issue.message, label).toMatch(message);
    }
    const builtin = await app.api.post('/api/ops/catalog/kinds', { ...blogPublish, name: 'ops.noop' });
    expect(builtin.status).toBe(409);
    expect(builtin.body.error.message).toMatch(/defined in code and cannot be registered/);
    expect((await app.api.put('/api/ops/catalog/kinds/moltbook.scout', { ...blogPublish, name: undefined })).status).toBe(409);
    expect((await app.api.delete('/api/ops/catalog/kinds/ops.noop')).status).toBe(409);
    expect(await rowCounts(db)).toEqual(before);
  });

  it('registers, proposes (bad params -> 400 naming the field), toggles the skill by SQL, and completes through the executor API', async () => {
    const registered = await app.api.post('/api/ops/catalog/kinds', blogPublish);
    expect(registered.status).toBe(201);
    expect(registered.body.kind).toMatchObject({ kind: 'blog.publish', skill: 'blog_writer', executor: 'external', source: 'registered', timeoutSeconds: 120, maxAttempts: 2, usable: true, params: blogPublish.paramsSchema });
    expect((await app.api.post('/api/ops/catalog/kinds', blogPublish)).status).toBe(409);

    // The new skill has its toggle row, off.
    const { rows: toggle } = await db.pool.query(`SELECT value FROM ops_policy WHERE key = 'blog_writer'`);
    expect(toggle).toEqual([{ value: { enabled: false } }]);

    // The catalogue lists it beside code kinds (params as JSON Schema for both).
    const catalog = await app.api.get('/api/ops/catalog');
    expect(catalog.status).toBe(200);
    const byKind = new Map(catalog.body.items.map((i: { kind: string }) => [i.kind, i]));
    expect(byKind.get('blog.publish')).toMatchObject({ source: 'registered', usable: true });
    expect(byKind.get('ops.noop')).toMatchObject({
      skill: 'ops_internal',
      executor: 'builtin',
      source: 'core',
      timeoutSeconds: 30,
      maxAttempts: 3,
      params: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { note: { type: 'string', maxLength: 500 } }, additionalProperties: false },
    });
    expect(byKind.get('moltbook.reply_monitor')).toMatchObject({ source: 'moltbook', executor: 'builtin', maxAttempts: 3 });
    expect(byKind.get('x.post')).toMatchObject({ source: 'registered', skill: 'x_autopost', executor: 'external' });
    expect((await app.api.get('/api/ops/catalog/kinds/blog.publish')).body.kind.kind).toBe('blog.publish');
    expect((await app.api.get('/api/ops/catalog/kinds/nope.nothing')).status).toBe(404);

    // Bad params: 400 naming each field, nothing written.
    const before = await rowCounts(db);
    const bad = await propose({ title: 'x'.repeat(81), extra: true });
    expect(bad.status).toBe(400);
    expect(paths(bad).sort()).toEqual(['steps.0.params.body', 'steps.0.params.extra', 'steps.0.params.title']);
    expect(bad.body.error.issues.find((i: { path: string }) => i.path === 'steps.0.params.title').message).toMatch(/80 characters/);
    const wrongType = await propose({ title: 'Launch', body: 'Hello', tags: 'launch' });
    expect(paths(wrongType)).toEqual(['steps.0.params.tags']);
    const unknownSkill = await propose({ title: 'Launch', body: 'Hello' }, { skill: 'blog_writing' });
    expect(unknownSkill.status).toBe(400);
    expect(paths(unknownSkill)).toEqual(['skill']);
    expect(await rowCounts(db)).toEqual(before);

    // Good params while the skill is off: rejected by the skill gate.
    const off = await propose({ title: 'Launch', body: 'Hello' });
    expect(off.status).toBe(201);
    expect(off.body).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/skill blog_writer is disabled/) });

    // The operator turns the skill on with SQL: the next proposal waits for a person
    // (auto_approve covers ops.* and moltbook.* only).
    await db.pool.query(`UPDATE ops_policy SET value = '{"enabled": true}' WHERE key = 'blog_writer'`);
    const pending = await propose({ title: 'Launch', body: 'Hello' }, { dedupeKey: 'launch-post' });
    expect(pending.body).toMatchObject({ status: 'pending', reason: expect.stringMatching(/blog.publish is not auto-approved/) });
    const approved = await app.api.post(`/api/ops/proposals/${pending.body.proposal.id}/approve`, { by: 'ops-lead' });
    expect(approved.body).toMatchObject({ status: 'approved', missionId: expect.any(String) });

    // An external executor claims it (params with their defaults) and completes it.
    const claim = await app.api.post('/api/ops/steps/claim', { workerId: 'blog-agent', kinds: ['blog.publish'], max: 5, leaseSeconds: 30 });
    expect(claim.body.steps).toHaveLength(1);
    const step = claim.body.steps[0];
    expect(step).toMatchObject({ kind: 'blog.publish', skill: 'blog_writer', params: { title: 'Launch', body: 'Hello', tags: [] }, maxAttempts: 2, timeoutSeconds: 120 });
    const done = await app.api.post(`/api/ops/steps/${step.id}/complete`, { leaseToken: step.leaseToken, result: { url: 'https://blog.example.com/launch' } });
    expect(done.status).toBe(200);
    const mission = await app.api.get(`/api/ops/missions/${approved.body.missionId}`);
    expect(mission.body.mission).toMatchObject({ status: 'succeeded', steps: [{ status: 'succeeded', result: { url: 'https://blog.example.com/launch' } }] });

    // Policy can auto-approve it too, through the API.
    const auto = await app.api.put('/api/ops/policy/auto_approve', { value: { enabled: true, step_kinds: ['ops.*', 'moltbook.*', 'blog.*'], never_step_kinds: ['x.post', 'tiktok.post'] } });
    expect(auto.status).toBe(200);
    expect((await propose({ title: 'Next', body: 'Again' })).body).toMatchObject({ status: 'approved' });

    // Its skill toggle is a policy key like any other.
    expect((await app.api.put('/api/ops/policy/blog_writer', { value: { enabled: false } })).status).toBe(200);
    expect((await app.api.put('/api/ops/policy/blog_writer', { value: { enabled: 'no' } })).status).toBe(400);
    expect((await app.api.put('/api/ops/policy/no_such_skill', { value: { enabled: true } })).status).toBe(400);

    const events = await db.pool.query(`SELECT kind, payload FROM ops_events WHERE kind LIKE 'catalog:%' ORDER BY id`);
    expect(events.rows).toEqual([{ kind: 'catalog:kind_registered', payload: { name: 'blog.publish', skill: 'blog_writer' } }]);
  });

  it('updates and deletes a registered kind; a deleted kind is refused by name', async () => {
    const updated = await app.api.put('/api/ops/catalog/kinds/blog.publish', { ...blogPublish, name: undefined, paramsSchema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] } });
    expect(updated.status).toBe(200);
    expect(updated.body.kind.params).toEqual({ type: 'object', properties: { title: { type: 'string' } }, required: ['title'] });
    await db.pool.query(`UPDATE ops_policy SET value = '{"enabled": true}' WHERE key = 'blog_writer'`);
    expect((await propose({ title: 'Only a title' })).status).toBe(201);
    expect((await app.api.put('/api/ops/catalog/kinds/blog.missing', { ...blogPublish, name: undefined })).status).toBe(404);

    expect((await app.api.delete('/api/ops/catalog/kinds/blog.publish')).status).toBe(204);
    expect((await app.api.delete('/api/ops/catalog/kinds/blog.publish')).status).toBe(404);
    const gone = await propose({ title: 'Only a title' });
    expect(gone.status).toBe(400);
    expect(gone.body.error.issues).toEqual([
      { path: 'skill', message: 'unknown skill "blog_writer": no step kind belongs to it' },
      { path: 'steps.0.kind', message: 'unknown step kind "blog.publish"' },
    ]);
  });

  it('a kind inserted with SQL is usable at once; an invalid one is unusable with a clear 400, never a 500', async () => {
    await db.pool.query(`
      INSERT INTO ops_step_kinds (name, skill, params_schema) VALUES
        ('shop.restock', 'shop_keeper', '{"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]}'),
        ('shop.broken', 'shop_keeper', '{"type": "object", "properties": {"sku": {"type": "strng"}}}'),
        ('ops.noop', 'shop_keeper', '{"type": "object"}')`);
    await db.pool.query(`UPDATE ops_policy SET value = '{"enabled": true}' WHERE key = 'shop_keeper'`);
    const ok = await app.api.post('/api/ops/proposal', { title: 'Restock', skill: 'shop_keeper', steps: [{ kind: 'shop.restock', params: { sku: 'A-1' } }] });
    expect(ok.status).toBe(201);
    expect(ok.body.status).toBe('pending');

    const broken = await app.api.post('/api/ops/proposal', { title: 'Broken', skill: 'shop_keeper', steps: [{ kind: 'shop.broken', params: { sku: 'A-1' } }] });
    expect(broken.status).toBe(400);
    expect(broken.body.error.issues).toEqual([{ path: 'steps.0.kind', message: expect.stringMatching(/^step kind "shop.broken" is registered but unusable: its params schema is invalid: /) }]);

    // The code kind wins over a row of the same name.
    const noop = await app.api.post('/api/ops/proposal', { title: 'No-op', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }] });
    expect(noop.body).toMatchObject({ status: 'approved' });

    const catalog = await app.api.get('/api/ops/catalog');
    expect(catalog.status).toBe(200);
    const entries = catalog.body.items.filter((i: { kind: string }) => i.kind.startsWith('shop.') || i.kind === 'ops.noop');
    expect(entries.map((e: { kind: string; source: string; usable: boolean }) => [e.kind, e.source, e.usable])).toEqual([
      ['ops.noop', 'core', true],
      ['shop.broken', 'registered', false],
      ['shop.restock', 'registered', true],
    ]);
    expect(app.logs()).not.toMatch(/"status":500/);
  });
});

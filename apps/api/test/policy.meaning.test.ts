import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FakeClock } from '@opsloop/core';
import { claimSteps, createProposal } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { HEARTBEAT_TOKEN, noopProposal, startTestApp, type TestApp } from '../../../test/app.ts';

let db: TestDatabase;
const apps: TestApp[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.pool.query(`TRUNCATE ops_proposals, ops_missions, ops_mission_steps, ops_step_runs, ops_events, ops_alerts, ops_heartbeat_runs, ops_cursors, ops_reactions CASCADE`);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function start(clock: FakeClock) {
  const app = await startTestApp(db, { clock, random: () => 0.5 });
  apps.push(app);
  return app;
}

async function restart(app: TestApp, clock: FakeClock) {
  await app.close();
  apps.splice(apps.indexOf(app), 1);
  return start(clock);
}

const beat = (app: TestApp) => app.raw.post('/api/ops/heartbeat').set('Authorization', `Bearer ${HEARTBEAT_TOKEN}`);

async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setImmediate(r));
  }
}

type Path = (string | number)[];
interface JsonSchemaNode {
  type?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  additionalProperties?: JsonSchemaNode | boolean;
}

/** Every numeric field of a policy key's schema, with its declared bounds, found from the schema itself. */
function numericFields(node: JsonSchemaNode, path: Path = []): { path: Path; minimum?: number; maximum?: number }[] {
  if (node.type === 'number' || node.type === 'integer') return [{ path, minimum: node.minimum, maximum: node.maximum }];
  const out: { path: Path; minimum?: number; maximum?: number }[] = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) out.push(...numericFields(child, [...path, name]));
  if (node.items) out.push(...numericFields(node.items, [...path, 0]));
  if (typeof node.additionalProperties === 'object') out.push(...numericFields(node.additionalProperties, [...path, 'ops.noop']));
  return out;
}

function setAt(value: unknown, path: Path, leaf: number): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let node = copy;
  for (const part of path.slice(0, -1)) node = node[part] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = leaf;
  return copy;
}

/** Values that matched a pattern every policy change makes: the reaction phase runs its cooldown query on each. */
const everyChange = {
  name: 'every-policy-change',
  event_kind: 'policy:changed',
  target_skill: 'ops_internal',
  probability: 1,
  cooldown_minutes: 5,
  template: { title: 'React to a policy change', steps: [{ kind: 'ops.noop', params: {} }] },
};

describe('policy that means what it says', () => {
  it('every numeric policy field at its extremes: either the PUT is a 400 or the heartbeat, a proposal and a claim all work', async () => {
    const clock = new FakeClock('2026-11-23T00:00:00Z');
    const app = await start(clock);
    const seeded = Object.fromEntries(((await app.api.get('/api/ops/policy')).body.items as { key: string; value: unknown }[]).map((i) => [i.key, i.value]));
    const base: Record<string, unknown> = {
      ...seeded,
      reaction_matrix: { patterns: [everyChange, ...(seeded.reaction_matrix as { patterns: unknown[] }).patterns] },
      daily_quotas: { 'ops.noop': 1000, ...(seeded.daily_quotas as object) },
    };
    // A running step with an expired lease, a pending proposal: recovery and expiry have work.
    await createProposal(app.ops, noopProposal({ title: 'recover me' }));
    await claimSteps(app.ops, { workerId: 'gone', kinds: ['ops.noop'], max: 1, leaseSeconds: 5 });

    const accepted: string[] = [];
    const failures: string[] = [];
    let fields = 0;
    // Every key this process knows: the core's and the workloads' (Moltbook's).
    for (const { key, schema: zodSchema } of app.ops.policy.registry.keys()) {
      const schema = z.toJSONSchema(zodSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
      for (const field of numericFields(schema)) {
        fields++;
        const { minimum = 0, maximum = Number.MAX_SAFE_INTEGER } = field;
        const extremes = [...new Set([minimum, maximum, minimum - 1, maximum + 1, 0, -1, 0.5, 2.2e9, Number.MAX_SAFE_INTEGER, 1e308, -1e308])];
        for (const extreme of extremes) {
          const label = `${key}.${field.path.join('.')} = ${extreme}`;
          const put = await app.api.put(`/api/ops/policy/${key}`, { value: setAt(base[key], field.path, extreme) });
          if (put.status === 400) continue;
          if (put.status !== 200) {
            failures.push(`${label}: PUT ${put.status}`);
            continue;
          }
          accepted.push(label);
          clock.advance(61_000);
          const res = await beat(app);
          for (const phase of res.body.phases ?? []) {
            const errors = (phase.result as { errors?: unknown[] } | undefined)?.errors ?? [];
            if (!phase.ok || errors.length) failures.push(`${label}: phase ${phase.name}: ${phase.error ?? JSON.stringify(errors)}`);
          }
          if (res.status !== 200) failures.push(`${label}: heartbeat ${res.status}`);
          const proposal = await app.api.post('/api/ops/proposal', noopProposal());
          if (proposal.status !== 201) failures.push(`${label}: proposal ${proposal.status} ${JSON.stringify(proposal.body)}`);
          const claim = await app.api.post('/api/ops/steps/claim', { workerId: 'w', kinds: ['x.post'] });
          if (claim.status !== 200) failures.push(`${label}: claim ${claim.status}`);
        }
        // Back to the base value before the next field.
        expect((await app.api.put(`/api/ops/policy/${key}`, { value: base[key] })).status).toBe(200);
      }
    }
    expect(failures).toEqual([]);
    expect(fields).toBeGreaterThanOrEqual(15);
    // The bounds still admit each field's own minimum and maximum.
    expect(accepted).toContain('ops_monitor.window_minutes = 1');
    expect(accepted).toContain('ops_monitor.window_minutes = 43200');
    expect(accepted).not.toContain(`ops_monitor.window_minutes = ${Number.MAX_SAFE_INTEGER}`);
    expect(accepted).not.toContain('reaction_matrix.patterns.0.cooldown_minutes = 2200000000');
  });

  it('a trigger counts as fired only when its proposal was created, not for a deduplicated one', async () => {
    const clock = new FakeClock('2026-11-23T00:00:00Z');
    const app = await start(clock);
    await db.pool.query(`DELETE FROM ops_trigger_rules WHERE name = 'ping-often'`);
    await db.pool.query(
      `INSERT INTO ops_trigger_rules (name, description, event_kind, condition, cooldown_minutes, proposal_template)
       VALUES ('ping-often', 'cooldown shorter than window', 'test:ping', '{"count_at_least": 1, "window_minutes": 60}', 1,
               '{"title": "Ping", "skill": "ops_internal", "steps": [{"kind": "ops.noop", "params": {}}]}')`,
    );
    const ping = () => db.prisma.opsEvent.create({ data: { kind: 'test:ping', source: 'test', payload: {}, createdAt: clock.now() } });
    const fired = async () => (await beat(app)).body.phases.find((p: { name: string }) => p.name === 'evaluateTriggers').result.fired as unknown[];

    await ping();
    expect(await fired()).toHaveLength(1);
    // Out of cooldown, same 60-minute window: the proposal is deduplicated, so no firing.
    clock.advance(5 * 60_000);
    await ping();
    expect(await fired()).toEqual([]);
    const rule = await db.prisma.opsTriggerRule.findUniqueOrThrow({ where: { name: 'ping-often' } });
    expect(rule.fireCount).toBe(1);
    expect(rule.lastFiredAt).toEqual(new Date('2026-11-23T00:00:00Z'));
    expect(await db.prisma.opsEvent.count({ where: { kind: 'trigger:fired' } })).toBe(1);
    // The next window fires again.
    clock.advance(60 * 60_000);
    await ping();
    expect(await fired()).toHaveLength(1);
    expect(await db.prisma.opsEvent.count({ where: { kind: 'trigger:fired' } })).toBe(2);
  });

  it('step_defaults.lease_seconds is the lease of claims and renewals that name none', async () => {
    const clock = new FakeClock('2026-11-23T00:00:00Z');
    const app = await start(clock);
    const now = () => clock.now().getTime();
    expect((await app.api.put('/api/ops/policy/step_defaults', { value: { max_attempts: 3, backoff_base_seconds: 10, backoff_max_seconds: 900, lease_seconds: 120, stale_after_minutes: 30 } })).status).toBe(200);
    await createProposal(app.ops, noopProposal());
    await createProposal(app.ops, noopProposal({ title: 'second' }));

    const claim = await app.api.post('/api/ops/steps/claim', { workerId: 'w', kinds: ['ops.noop'] });
    expect(claim.status).toBe(200);
    const step = claim.body.steps[0];
    expect(new Date(step.leaseExpiresAt).getTime() - now()).toBe(120_000);
    expect(step.leaseSeconds).toBe(120);

    clock.advance(10_000);
    const renewed = await app.api.post(`/api/ops/steps/${step.id}/heartbeat`, { leaseToken: step.leaseToken });
    expect(new Date(renewed.body.leaseExpiresAt).getTime() - now()).toBe(120_000);
    const explicit = await app.api.post(`/api/ops/steps/${step.id}/heartbeat`, { leaseToken: step.leaseToken, leaseSeconds: 30 });
    expect(new Date(explicit.body.leaseExpiresAt).getTime() - now()).toBe(30_000);

    // The in-process worker claims the same way (no lease length of its own).
    const [workerStep] = await claimSteps(app.ops, { workerId: 'in-process', kinds: ['ops.noop'], max: 1 });
    expect(workerStep!.leaseSeconds).toBe(120);
    expect(workerStep!.leaseExpiresAt.getTime() - now()).toBe(120_000);

    // A hand-written value out of bounds is ignored: the default lease applies.
    await db.pool.query(`UPDATE ops_policy SET value = jsonb_set(value, '{lease_seconds}', '"long"') WHERE key = 'step_defaults'`);
    await createProposal(app.ops, noopProposal({ title: 'third' }));
    const [fallback] = await claimSteps(app.ops, { workerId: 'in-process', kinds: ['ops.noop'], max: 1 });
    expect(fallback!.leaseSeconds).toBe(60);
  });

  it('ops_monitor.heartbeat_missing_minutes decides when a heartbeat is missing', async () => {
    const clock = new FakeClock('2026-11-23T03:00:00Z');
    const app = await start(clock);
    const monitor = (minutes: number) => ({ value: { failure_threshold: 5, window_minutes: 60, cooldown_minutes: 60, heartbeat_missing_minutes: minutes } });
    expect((await app.api.put('/api/ops/policy/ops_monitor', monitor(120))).status).toBe(200);
    await beat(app);
    clock.advance(90 * 60_000);
    expect((await app.api.get('/api/ops/summary/daily')).body.heartbeat.missing).toBe(false);
    await beat(app);
    expect(await db.prisma.opsAlert.count({ where: { kind: 'heartbeat_missing' } })).toBe(0);

    expect((await app.api.put('/api/ops/policy/ops_monitor', monitor(30))).status).toBe(200);
    clock.advance(45 * 60_000);
    expect((await app.api.get('/api/ops/summary/daily')).body.heartbeat.missing).toBe(true);
    await beat(app);
    const alert = await db.prisma.opsAlert.findFirstOrThrow({ where: { kind: 'heartbeat_missing' } });
    expect(alert.payload).toMatchObject({ gapMinutes: 45, windowMinutes: 30 });
  });

  it('daily_quotas broken in a fresh process: the last valid value (stored) still caps, it is not "unlimited"', async () => {
    const clock = new FakeClock('2026-11-23T03:00:00Z');
    let app = await start(clock);
    // An operator's hand-written, valid value: the first read stores it as the last valid one.
    await db.pool.query(`UPDATE ops_policy SET value = '{"ops.noop": 2}' WHERE key = 'daily_quotas'`);
    expect((await app.api.post('/api/ops/proposal', noopProposal())).body.status).toBe('approved');
    await until(
      'the last valid daily_quotas to be stored',
      async () => (await db.pool.query(`SELECT last_valid_value AS v FROM ops_policy WHERE key = 'daily_quotas'`)).rows[0]!.v,
      (v) => JSON.stringify(v) === '{"ops.noop": 2}' || JSON.stringify(v) === '{"ops.noop":2}',
    );

    // Broken by hand, then a restart: a new process that never saw a valid value.
    await db.pool.query(`UPDATE ops_policy SET value = '{"ops.noop": "two"}' WHERE key = 'daily_quotas'`);
    app = await restart(app, clock);
    const second = await app.api.post('/api/ops/proposal', noopProposal({ title: 'second' }));
    expect(second.body.status).toBe('approved');
    const third = await app.api.post('/api/ops/proposal', noopProposal({ title: 'third' }));
    expect(third.body).toMatchObject({ status: 'rejected', reason: expect.stringContaining('daily quota for ops.noop exceeded (2 of 2') });
    expect(await db.prisma.opsEvent.count({ where: { kind: 'policy:invalid' } })).toBeGreaterThan(0);
    const listed = (await app.api.get('/api/ops/policy')).body.items.find((i: { key: string }) => i.key === 'daily_quotas');
    expect(listed).toMatchObject({ valid: false, lastValidValue: { 'ops.noop': 2 } });

    // Written through the API, the value is stored as last valid at once.
    expect((await app.api.put('/api/ops/policy/daily_quotas', { value: { 'ops.noop': 5 } })).status).toBe(200);
    await db.pool.query(`UPDATE ops_policy SET value = 'null' WHERE key = 'daily_quotas'`);
    app = await restart(app, clock);
    for (let i = 0; i < 3; i++) expect((await app.api.post('/api/ops/proposal', noopProposal({ title: `more ${i}` }))).body.status).toBe('approved');
    expect((await app.api.post('/api/ops/proposal', noopProposal({ title: 'over' }))).body.status).toBe('rejected');
    await db.pool.query(`UPDATE ops_policy SET value = last_valid_value WHERE key = 'daily_quotas'`);
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '@opsloop/core';
import { processReactionQueue, REACTION_MAX_ATTEMPTS } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps } from '../../../test/app.ts';

let db: TestDatabase;
let clock: FakeClock;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  clock = new FakeClock('2026-11-23T00:00:00Z');
  await db.pool.query(`TRUNCATE ops_proposals, ops_missions, ops_mission_steps, ops_events, ops_reactions, ops_cursors CASCADE`);
});

const template = { title: 'React', steps: [{ kind: 'ops.noop', params: {} }] };
const setMatrix = (patterns: object[]) =>
  db.pool.query(`UPDATE ops_policy SET value = $1 WHERE key = 'reaction_matrix'`, [JSON.stringify({ patterns })]);
const event = (kind: string, extra: { source?: string; tags?: string[] } = {}) =>
  db.prisma.opsEvent.create({ data: { kind, source: extra.source ?? 'test', tags: extra.tags ?? [], createdAt: clock.now() } });
const run = (random: () => number) => processReactionQueue({ ...createOps(db, clock, [], random), random }, { outOfTime: () => false });

describe('reaction matrix', () => {
  it('probability 0 never fires, 1 always does; each roll is recorded', async () => {
    await setMatrix([
      { name: 'never', event_kind: 'engagement:high', target_skill: 'ops_internal', probability: 0, template },
      { name: 'always', event_kind: 'engagement:*', target_skill: 'ops_internal', probability: 1, template },
    ]);
    await event('engagement:high');
    const report = await run(() => 0);
    expect(report).toMatchObject({ eventsScanned: 1, enqueued: 1, skipped: 1, proposed: 1 });
    const rows = await db.prisma.opsReaction.findMany({ orderBy: { pattern: 'asc' } });
    expect(rows.map((r) => [r.pattern, r.status, r.roll])).toEqual([
      ['always', 'proposed', 0],
      ['never', 'skipped', 0],
    ]);
    const proposal = await db.prisma.opsProposal.findFirstOrThrow();
    expect(proposal).toMatchObject({ source: 'reaction', proposedBy: 'reaction:always', status: 'approved' });
  });

  it('rolls with the injected random against the probability, and filters on source and tags', async () => {
    await setMatrix([{ name: 'half', event_kind: 'mission:failed', source: 'missions', tags: ['failure'], target_skill: 'ops_internal', probability: 0.5, template }]);
    await event('mission:failed', { source: 'missions', tags: ['failure'] });
    await event('mission:failed', { source: 'missions', tags: ['failure'] });
    await event('mission:failed', { source: 'other', tags: ['failure'] });
    await event('mission:failed', { source: 'missions' });
    const rolls = [0.49, 0.51];
    await run(() => rolls.shift() ?? 0.99);
    const rows = await db.prisma.opsReaction.findMany({ orderBy: { id: 'asc' } });
    expect(rows.map((r) => [r.status, r.roll])).toEqual([
      ['proposed', 0.49],
      ['skipped', 0.51],
    ]);
  });

  it('cooldown is per pattern and target', async () => {
    await setMatrix([{ name: 'cool', event_kind: 'x:y', target_skill: 'ops_internal', probability: 1, cooldown_minutes: 30, template }]);
    await event('x:y');
    await run(() => 0);
    clock.advance(10 * 60_000);
    await event('x:y');
    await run(() => 0);
    clock.advance(25 * 60_000);
    await event('x:y');
    await run(() => 0);
    const rows = await db.prisma.opsReaction.findMany({ orderBy: { id: 'asc' } });
    expect(rows.map((r) => r.status)).toEqual(['proposed', 'skipped', 'proposed']);
    expect(rows[1]!.lastError).toMatch(/cooldown/);
  });

  it('events that match nothing never block; the cursor is durable and a late heartbeat misses nothing', async () => {
    await setMatrix([{ name: 'late', event_kind: 'wanted', target_skill: 'ops_internal', probability: 1, template }]);
    for (let i = 0; i < 30; i++) await event('noise');
    await event('wanted');
    const report = await run(() => 0);
    expect(report).toMatchObject({ eventsScanned: 31, enqueued: 1, proposed: 1 });
    // The reaction's own proposal wrote 3 events; they are scanned once, then nothing.
    expect(await run(() => 0)).toMatchObject({ eventsScanned: 3, enqueued: 0 });
    expect((await run(() => 0)).eventsScanned).toBe(0);
    expect(await db.prisma.opsReaction.count()).toBe(1);
  });

  it('out of budget it stops at a batch boundary and the next run resumes from the cursor', async () => {
    await setMatrix([{ name: 'bulk', event_kind: 'bulk', target_skill: 'ops_internal', probability: 0, template }]);
    await db.pool.query(`INSERT INTO ops_events (kind, source, created_at) SELECT 'bulk', 'test', $1 FROM generate_series(1, 2500)`, [clock.now()]);
    let checks = 0;
    const first = await processReactionQueue({ ...createOps(db, clock, [], () => 0.5) }, { outOfTime: () => checks++ >= 1 });
    expect(first.eventsScanned).toBe(2000); // one batch, then the budget ran out
    const second = await run(() => 0.5);
    expect(second.eventsScanned).toBe(500);
    expect(await db.prisma.opsReaction.count()).toBe(2500); // each event exactly once
  });

  it('a reaction whose proposal keeps failing is retried with backoff, then marked dead with its error', async () => {
    await setMatrix([{ name: 'broken', event_kind: 'boom', target_skill: 'ops_internal', probability: 1, template: { title: 'bad', steps: [{ kind: 'no.such.kind', params: {} }] } }]);
    await event('boom');
    let report = await run(() => 0.5);
    expect(report).toMatchObject({ enqueued: 1, retried: 1 });
    let row = await db.prisma.opsReaction.findFirstOrThrow();
    expect(row).toMatchObject({ status: 'queued', attempts: 1 });
    expect(row.lastError).toMatch(/unknown step kind "no\.such\.kind"/);
    expect(row.nextAttemptAt.getTime()).toBeGreaterThan(clock.now().getTime());

    report = await run(() => 0.5); // not due yet: nothing happens
    expect(report.retried).toBe(0);
    for (let i = 1; i < REACTION_MAX_ATTEMPTS; i++) {
      clock.set((await db.prisma.opsReaction.findFirstOrThrow()).nextAttemptAt);
      await run(() => 0.5);
    }
    row = await db.prisma.opsReaction.findFirstOrThrow();
    expect(row).toMatchObject({ status: 'dead', attempts: REACTION_MAX_ATTEMPTS });
    expect(await db.prisma.opsProposal.count()).toBe(0);
  });
});

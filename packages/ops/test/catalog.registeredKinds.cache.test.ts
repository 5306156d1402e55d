import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, systemClock } from '@opsloop/core';
import { listenForCatalogChanges, type Listener, type RegisteredKinds } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createOps } from '../../../test/app.ts';

let db: TestDatabase;
const listeners: Listener[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close()));
  await db.pool.query(`DELETE FROM ops_step_kinds WHERE name LIKE 'cache.%'`);
});
afterAll(async () => {
  await db?.drop();
});

const schemaWith = (maxLength: number) => JSON.stringify({ type: 'object', properties: { text: { type: 'string', maxLength } }, required: ['text'] });
const insert = (name: string, maxLength: number) =>
  db.pool.query(`INSERT INTO ops_step_kinds (name, skill, params_schema) VALUES ($1, 'cache_skill', $2::jsonb)`, [name, schemaWith(maxLength)]);
const setMax = (name: string, maxLength: number) => db.pool.query(`UPDATE ops_step_kinds SET params_schema = $2::jsonb WHERE name = $1`, [name, schemaWith(maxLength)]);

/** Whether params {text} of `length` pass the kind as this process sees it now. */
async function accepts(kinds: RegisteredKinds, name: string, length: number): Promise<boolean | 'unknown'> {
  const [kind] = await kinds.lookup({ kinds: [name], skills: [] });
  if (!kind?.definition) return 'unknown';
  return kind.definition.params.safeParse({ text: 'x'.repeat(length) }).success;
}

function freshKinds(): RegisteredKinds {
  return createOps(db, systemClock).catalog.registered!;
}

describe('registered kinds: in-process cache', () => {
  it('without a listener every lookup reads the table, so a SQL change applies to the next proposal', async () => {
    const kinds = freshKinds();
    await insert('cache.plain', 5);
    expect(await accepts(kinds, 'cache.plain', 6)).toBe(false);
    await setMax('cache.plain', 10);
    expect(await accepts(kinds, 'cache.plain', 6)).toBe(true);
  });

  it('while listening, a cached kind is served from memory until its change is announced', async () => {
    const kinds = freshKinds();
    // Listening without a connection: only this test's own invalidate() calls reach it,
    // which shows the cache really is used (the SQL change below is not seen).
    kinds.setListening(true);
    expect(await accepts(kinds, 'cache.quiet', 6)).toBe('unknown');
    await insert('cache.quiet', 5); // a miss reads the table: usable at once
    expect(await accepts(kinds, 'cache.quiet', 6)).toBe(false);
    await setMax('cache.quiet', 10);
    expect(await accepts(kinds, 'cache.quiet', 6)).toBe(false);
    kinds.invalidate('cache.quiet');
    expect(await accepts(kinds, 'cache.quiet', 6)).toBe(true);
    await setMax('cache.quiet', 3);
    kinds.invalidate('*');
    expect(await accepts(kinds, 'cache.quiet', 4)).toBe(false);
    // Losing the connection turns the cache off: reads are fresh again.
    kinds.setListening(false);
    await setMax('cache.quiet', 10);
    expect(await accepts(kinds, 'cache.quiet', 4)).toBe(true);
  });

  it('with LISTEN, a change made with SQL (as by another replica) reaches the cache within moments', async () => {
    const kinds = freshKinds();
    const listener = listenForCatalogChanges(db.url, silentLogger(), kinds);
    listeners.push(listener);
    await listener.ready;
    await insert('cache.live', 5);
    expect(await accepts(kinds, 'cache.live', 6)).toBe(false);
    await setMax('cache.live', 10);
    await expect.poll(() => accepts(kinds, 'cache.live', 6), { timeout: 5000, interval: 20 }).toBe(true);
    await db.pool.query(`DELETE FROM ops_step_kinds WHERE name = 'cache.live'`);
    await expect.poll(() => accepts(kinds, 'cache.live', 6), { timeout: 5000, interval: 20 }).toBe('unknown');
  });

  it('a skill is known once any of its kinds is, whether cached or read', async () => {
    const kinds = freshKinds();
    kinds.setListening(true);
    await insert('cache.one', 5);
    const viaSkill = await kinds.lookup({ kinds: [], skills: ['cache_skill'] });
    expect(viaSkill.map((k) => k.name)).toContain('cache.one');
    await db.pool.query(`DELETE FROM ops_step_kinds WHERE name = 'cache.one'`);
    // Still cached (no announcement reached this store): known until invalidated.
    expect((await kinds.lookup({ kinds: [], skills: ['cache_skill'] })).map((k) => k.name)).toContain('cache.one');
    kinds.invalidate('cache.one');
    expect(await kinds.lookup({ kinds: [], skills: ['cache_skill'] })).toEqual([]);
  });
});

import fs from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDMMF } from './prismaDmmf.ts';
import { MIGRATIONS_DIR, latestMigrationVersion, migrate, migrationStatus, rollback, seed } from '@opsloop/db';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ template: false });
});
afterAll(async () => {
  await db?.drop();
});

const q = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => (await db.pool.query<T>(sql, params)).rows;
const tables = async () =>
  (await q<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)).map(
    (r) => r.table_name,
  );

describe('SQL migrations', () => {
  it('apply to an empty database, roll back completely, and apply again', async () => {
    const latest = await latestMigrationVersion();
    const up = await migrate(db.url);
    expect(up).toMatchObject({ from: 0, to: latest });
    const first = await tables();
    expect(first).toEqual(expect.arrayContaining(['ops_proposals', 'ops_events', 'moltbook_handled_comment_events']));

    const down = await rollback(db.url, { target: 0 });
    expect(down.to).toBe(0);
    expect(await tables()).toEqual(['schemaversion']);

    const again = await migrate(db.url);
    expect(again.to).toBe(latest);
    expect(await tables()).toEqual(first);
    expect(await migrationStatus((sql) => db.pool.query(sql))).toEqual({ current: latest, latest, upToDate: true });
  });

  it('rolls back one version at a time by default', async () => {
    const latest = await latestMigrationVersion();
    const result = await rollback(db.url);
    expect(result.to).toBeLessThan(latest);
    expect(await migrationStatus((sql) => db.pool.query(sql))).toMatchObject({ upToDate: false });
    await migrate(db.url);
  });

  it('every do file has a matching undo file', async () => {
    const files = await fs.readdir(MIGRATIONS_DIR);
    const dos = files.filter((f) => f.includes('.do.'));
    expect(dos.length).toBeGreaterThan(0);
    for (const file of dos) expect(files).toContain(file.replace('.do.', '.undo.'));
  });

  it('two processes migrating at once apply each migration once, without error', async () => {
    await rollback(db.url, { target: 0 });
    const results = await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
    const applied = results.flatMap((r) => r.applied);
    expect(applied.sort()).toEqual(
      (await fs.readdir(MIGRATIONS_DIR)).filter((f) => f.includes('.do.')).map((f) => f.replace(/\.sql$/, '')).sort(),
    );
    const rows = await q<{ version: number }>('SELECT version FROM schemaversion ORDER BY version');
    expect(new Set(rows.map((r) => r.version)).size).toBe(rows.length);
  });

  it('seeds are idempotent and never overwrite an operator change', async () => {
    await seed(db.url);
    const before = await q<{ n: number }>('SELECT count(*)::int AS n FROM ops_policy');
    await q(`UPDATE ops_policy SET value = '{"enabled": true}' WHERE key = 'tiktok_autopost'`);
    await seed(db.url);
    await seed(db.url);
    expect(await q('SELECT count(*)::int AS n FROM ops_policy')).toEqual(before);
    expect(await q(`SELECT value FROM ops_policy WHERE key = 'tiktok_autopost'`)).toEqual([{ value: { enabled: true } }]);
    const rules = await q<{ n: number }>('SELECT count(*)::int AS n FROM ops_trigger_rules');
    expect(rules[0]!.n).toBeGreaterThanOrEqual(2);
  });
});

/** Prisma scalar type -> the PostgreSQL udt_names it may map to. */
const COMPATIBLE: Record<string, string[]> = {
  String: ['text', 'varchar', 'uuid', 'bpchar'],
  Int: ['int4', 'int2'],
  BigInt: ['int8'],
  Float: ['float8', 'float4'],
  Boolean: ['bool'],
  DateTime: ['timestamptz', 'timestamp', 'date'],
  Json: ['jsonb', 'json'],
  Decimal: ['numeric'],
};
const NATIVE: Record<string, string> = { Uuid: 'uuid', Timestamptz: 'timestamptz', Text: 'text', Date: 'date' };

describe('Prisma schema and SQL agree', () => {
  it('every model field maps to a column of compatible type and nullability', async () => {
    const dmmf = getDMMF(await fs.readFile(path.resolve('prisma/schema.prisma'), 'utf8'));
    const columns = await q<{ table_name: string; column_name: string; udt_name: string; is_nullable: string }>(
      `SELECT table_name, column_name, udt_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    const byTable = new Map<string, Map<string, (typeof columns)[number]>>();
    for (const c of columns) {
      if (!byTable.has(c.table_name)) byTable.set(c.table_name, new Map());
      byTable.get(c.table_name)!.set(c.column_name, c);
    }

    const problems: string[] = [];
    const mappedTables = new Set<string>();
    for (const model of dmmf.datamodel.models) {
      const table = model.dbName ?? model.name;
      mappedTables.add(table);
      const cols = byTable.get(table);
      if (!cols) {
        problems.push(`model ${model.name}: table ${table} does not exist`);
        continue;
      }
      const mappedColumns = new Set<string>();
      for (const field of model.fields) {
        if (field.kind !== 'scalar') continue;
        const column = field.dbName ?? field.name;
        mappedColumns.add(column);
        const col = cols.get(column);
        const where = `${model.name}.${field.name} (${table}.${column})`;
        if (!col) {
          problems.push(`${where}: column missing`);
          continue;
        }
        const udt = field.isList ? col.udt_name.replace(/^_/, '') : col.udt_name;
        if (field.isList !== col.udt_name.startsWith('_')) problems.push(`${where}: list mismatch (${col.udt_name})`);
        if (!COMPATIBLE[field.type]?.includes(udt)) problems.push(`${where}: ${field.type} vs ${col.udt_name}`);
        const native = field.nativeType?.[0];
        if (native && NATIVE[native] && NATIVE[native] !== udt) problems.push(`${where}: @db.${native} vs ${col.udt_name}`);
        if (!native && field.type === 'String' && udt !== 'text') problems.push(`${where}: String without @db.* vs ${col.udt_name}`);
        const nullable = col.is_nullable === 'YES';
        if (!field.isList && nullable === field.isRequired) {
          problems.push(`${where}: Prisma ${field.isRequired ? 'required' : 'optional'}, column ${nullable ? 'NULL' : 'NOT NULL'}`);
        }
      }
      for (const column of cols.keys()) {
        if (!mappedColumns.has(column)) problems.push(`${table}.${column}: column not in the Prisma model ${model.name}`);
      }
    }
    for (const table of byTable.keys()) {
      if (table !== 'schemaversion' && !mappedTables.has(table)) problems.push(`table ${table} has no Prisma model`);
    }
    expect(problems).toEqual([]);
  });
});

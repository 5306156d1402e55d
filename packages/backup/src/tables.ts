import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { to as copyTo } from 'pg-copy-streams';
import { copyDigest } from './digest.ts';
import type pg from 'pg';
import { SCHEMA_TABLE } from '@opsloop/db';

export interface TableInfo {
  name: string;
  columns: string[];
  /** Primary-key columns: the order rows are copied in, so checksums are reproducible. */
  key: string[];
}

/** opsloop's tables in the public schema (postgrator's bookkeeping aside), by name. */
export async function listTables(client: pg.ClientBase): Promise<TableInfo[]> {
  const { rows } = await client.query<{ name: string; columns: string[]; key: string[] | null }>(
    `SELECT c.relname AS name,
            array(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                  AND a.attgenerated = '' ORDER BY a.attnum)::text[] AS columns,
            (SELECT array_agg(a.attname ORDER BY k.ord)::text[] FROM pg_index i
               CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
              WHERE i.indrelid = c.oid AND i.indisprimary) AS key
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> $1
      ORDER BY c.relname`,
    [SCHEMA_TABLE],
  );
  return rows.map((r) => ({ name: r.name, columns: r.columns, key: r.key ?? r.columns }));
}

export const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The COPY that reads a table in key order (the same text for equal contents). */
export function copyOutSql(t: { name: string; columns: string[]; key: string[] }): string {
  return `COPY (SELECT ${t.columns.map(ident).join(', ')} FROM ${ident(t.name)} ORDER BY ${t.key.map(ident).join(', ')}) TO STDOUT`;
}

/** Row count and SHA-256 of every table as a backup would read it now. */
export async function tableDigests(client: pg.ClientBase): Promise<Record<string, { rows: number; sha256: string }>> {
  const out: Record<string, { rows: number; sha256: string }> = {};
  for (const t of await listTables(client)) {
    const digest = copyDigest();
    await pipeline(client.query(copyTo(copyOutSql(t))), digest, new Writable({ write: (_c, _e, done) => done() }));
    out[t.name] = digest.result();
  }
  return out;
}

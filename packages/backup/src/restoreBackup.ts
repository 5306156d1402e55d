import { pipeline } from 'node:stream/promises';
import { Writable, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { Logger } from '@opsloop/core';
import { latestMigrationVersion, migrate, migrationStatus, rollback, seed } from '@opsloop/db';
import type { BackupDestination } from './destinations.ts';
import { copyDigest } from './digest.ts';
import { copyOutSql, ident, listTables, type TableInfo } from './tables.ts';
import { BackupError, MANIFEST_FILE, MANIFEST_FORMAT, type BackupManifest } from './types.ts';

export async function readManifest(destination: BackupDestination, name: string): Promise<BackupManifest> {
  let text: string;
  try {
    text = await streamToString(await destination.read(name, MANIFEST_FILE));
  } catch {
    throw new BackupError(`backup "${name}" not found at ${destination.location(name)} (no ${MANIFEST_FILE})`);
  }
  const manifest = JSON.parse(text) as BackupManifest;
  if (manifest.format !== MANIFEST_FORMAT || !Array.isArray(manifest.tables)) throw new BackupError(`backup "${name}": unknown manifest format`);
  return manifest;
}

export interface RestoreResult {
  name: string;
  schemaVersion: number;
  /** Schema version after migrating past the backup's. */
  migratedTo: number;
  tables: { name: string; rows: number }[];
  durationMs: number;
}

/**
 * Restores a backup into the database at `url`:
 * 1. refuses a backup from a newer schema than this opsloop knows;
 * 2. refuses a database with rows in any of the backup's tables unless `force`;
 * 3. moves the schema to the backup's version (migrating up an empty database, or
 *    rolling back migrations newer than the backup);
 * 4. in ONE transaction: truncates the tables, streams each file into `COPY … FROM
 *    STDIN` with foreign keys deferred (proposals and missions point at each other),
 *    resets sequences, then re-reads every table and compares row count and SHA-256 with
 *    the manifest; any difference rolls everything back;
 * 5. applies the migrations newer than the backup, and the seeds.
 */
export async function restoreBackup(
  deps: { url: string; logger: Logger },
  o: { destination: BackupDestination; name: string; force?: boolean },
): Promise<RestoreResult> {
  const started = performance.now();
  const manifest = await readManifest(o.destination, o.name);
  const latest = await latestMigrationVersion();
  if (manifest.schemaVersion > latest) {
    throw new BackupError(`backup "${o.name}" is from schema version ${manifest.schemaVersion}; this opsloop knows up to ${latest}. Restore it with a newer opsloop.`);
  }
  const client = new pg.Client({ connectionString: deps.url });
  await client.connect();
  try {
    await client.query('SET client_min_messages = warning');
    const status = await migrationStatus((sql) => client.query(sql));
    if (status.current > 0 && !o.force) {
      const existing = new Set((await listTables(client)).map((t) => t.name));
      for (const t of manifest.tables) {
        if (!existing.has(t.name)) continue;
        const { rows } = await client.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${ident(t.name)}) AS any`);
        if (rows[0]!.any) throw new BackupError(`the database is not empty (${t.name} has rows): restore into a new database, or pass --force to replace its contents`);
      }
    }
    if (status.current < manifest.schemaVersion) await migrate(deps.url, { target: manifest.schemaVersion });
    else if (status.current > manifest.schemaVersion) await rollback(deps.url, { target: manifest.schemaVersion });

    const tables = new Map((await listTables(client)).map((t) => [t.name, t]));
    for (const t of manifest.tables) {
      if (!tables.has(t.name)) throw new BackupError(`table ${t.name} of the backup does not exist at schema version ${manifest.schemaVersion}`);
    }
    await client.query('BEGIN');
    try {
      await loadTables(client, o.destination, manifest, tables);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  } finally {
    await client.end().catch(() => {});
  }
  const migrated = await migrate(deps.url, { logger: deps.logger });
  await seed(deps.url);
  const result: RestoreResult = {
    name: manifest.name,
    schemaVersion: manifest.schemaVersion,
    migratedTo: migrated.to,
    tables: manifest.tables.map((t) => ({ name: t.name, rows: t.rows })),
    durationMs: Math.round(performance.now() - started),
  };
  deps.logger.info({ backup: manifest.name, from: manifest.schemaVersion, to: migrated.to, ms: result.durationMs }, 'backup restored');
  return result;
}

async function loadTables(client: pg.Client, destination: BackupDestination, manifest: BackupManifest, tables: Map<string, TableInfo>) {
  // Truncating every table in one statement satisfies their foreign keys among each other.
  await client.query(`TRUNCATE ${[...tables.keys()].map(ident).join(', ')}`);
  const { rows: fks } = await client.query<{ tbl: string; con: string }>(
    `SELECT conrelid::regclass::text AS tbl, conname AS con FROM pg_constraint
      WHERE contype = 'f' AND connamespace = 'public'::regnamespace AND NOT condeferrable`,
  );
  for (const fk of fks) await client.query(`ALTER TABLE ${fk.tbl} ALTER CONSTRAINT ${ident(fk.con)} DEFERRABLE INITIALLY DEFERRED`);

  for (const t of manifest.tables) {
    const digest = copyDigest();
    const source = await destination.read(manifest.name, t.file);
    await pipeline(source, createGunzip(), digest, client.query(copyFrom(`COPY ${ident(t.name)} (${t.columns.map(ident).join(', ')}) FROM STDIN`)));
    const got = digest.result();
    if (got.rows !== t.rows || got.sha256 !== t.sha256) throw new BackupError(`backup file ${t.file} is corrupt: ${got.rows} rows / ${got.sha256}, manifest says ${t.rows} / ${t.sha256}`);
  }
  // Foreign keys checked now, then made plain again (as the migrations define them).
  await client.query('SET CONSTRAINTS ALL IMMEDIATE');
  for (const fk of fks) await client.query(`ALTER TABLE ${fk.tbl} ALTER CONSTRAINT ${ident(fk.con)} NOT DEFERRABLE`);

  const { rows: seqs } = await client.query<{ tbl: string; col: string; seq: string }>(
    `SELECT c.relname AS tbl, a.attname AS col, pg_get_serial_sequence(quote_ident(c.relname), a.attname) AS seq
       FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND pg_get_serial_sequence(quote_ident(c.relname), a.attname) IS NOT NULL`,
  );
  for (const s of seqs) {
    await client.query(`SELECT setval($1, coalesce((SELECT max(${ident(s.col)}) FROM ${ident(s.tbl)}), 0) + 1, false)`, [s.seq]);
  }

  // What is in the database now, read back the way the backup read it.
  for (const t of manifest.tables) {
    const digest = copyDigest();
    await pipeline(client.query(copyTo(copyOutSql({ ...tables.get(t.name)!, columns: t.columns }))), digest, new Writable({ write: (_c, _e, done) => done() }));
    const got = digest.result();
    if (got.rows !== t.rows || got.sha256 !== t.sha256) {
      throw new BackupError(`restored ${t.name} does not match the manifest: ${got.rows} rows / ${got.sha256}, expected ${t.rows} / ${t.sha256}`);
    }
  }
}

async function streamToString(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

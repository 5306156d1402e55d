import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Logger } from '@opsloop/core';
import { SCHEMA_TABLE } from '@opsloop/db';
import type { BackupDestination } from './destinations.ts';
import { copyDigest } from './digest.ts';
import { copyOutSql, listTables } from './tables.ts';
import { MANIFEST_FILE, MANIFEST_FORMAT, type BackupManifest, type TableManifest } from './types.ts';
import { opsloopVersion } from './version.ts';

/** `opsloop-20261123T000000123Z`: sorts in time order. */
export function backupName(at: Date): string {
  return `opsloop-${at.toISOString().replaceAll(/[-:.]/g, '')}`;
}

/**
 * Writes a backup of every opsloop table: one REPEATABLE READ, READ ONLY transaction (so
 * every table is read at the same instant while writers carry on), one streamed
 * `COPY … TO STDOUT` per table through a digest and gzip to a staged file (never whole in
 * memory), each file handed to the destination, then the manifest last.
 */
export async function takeBackup(
  deps: { pool: pg.Pool; logger: Logger },
  o: { destination: BackupDestination; name: string; now: () => Date },
): Promise<BackupManifest> {
  const started = performance.now();
  const staging = path.join(o.destination.stagingDir(), o.name);
  await fsp.mkdir(path.join(staging, 'tables'), { recursive: true });
  const client = await deps.pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ version: number | null }>(`SELECT max(version)::int AS version FROM ${SCHEMA_TABLE}`);
    const schemaVersion = rows[0]?.version ?? 0;
    const tables: TableManifest[] = [];
    for (const table of await listTables(client)) {
      const file = `tables/${table.name}.copy.gz`;
      const local = path.join(staging, file);
      const digest = copyDigest();
      await pipeline(client.query(copyTo(copyOutSql(table))), digest, createGzip({ level: 6 }), fs.createWriteStream(local));
      const { size } = await fsp.stat(local);
      tables.push({ name: table.name, columns: table.columns, ...digest.result(), file, bytes: size });
    }
    await client.query('COMMIT');
    // Upload after the snapshot is released: a slow bucket must not pin old row versions.
    for (const t of tables) await o.destination.put(o.name, t.file, path.join(staging, t.file));
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT,
      name: o.name,
      createdAt: o.now().toISOString(),
      opsloopVersion: opsloopVersion(),
      schemaVersion,
      durationMs: Math.round(performance.now() - started),
      totalRows: tables.reduce((n, t) => n + t.rows, 0),
      sizeBytes: tables.reduce((n, t) => n + t.bytes, 0),
      tables,
    };
    const manifestPath = path.join(staging, MANIFEST_FILE);
    await fsp.writeFile(manifestPath, JSON.stringify(manifest, null, 2));
    await o.destination.put(o.name, MANIFEST_FILE, manifestPath);
    deps.logger.info({ backup: o.name, rows: manifest.totalRows, bytes: manifest.sizeBytes, ms: manifest.durationMs }, 'backup written');
    return manifest;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

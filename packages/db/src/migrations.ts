import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import Postgrator from 'postgrator';
import type { Logger } from '@opsloop/core';

const SQL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../sql');
export const MIGRATIONS_DIR = path.join(SQL_DIR, 'migrations');
export const SEEDS_DIR = path.join(SQL_DIR, 'seeds');
/** postgrator's bookkeeping table. */
export const SCHEMA_TABLE = 'schemaversion';
// Arbitrary but fixed: every opsloop process contends for this one advisory lock.
const MIGRATION_LOCK_KEY = 7_146_201_001;

export interface MigrationResult {
  from: number;
  to: number;
  applied: string[];
}

/**
 * Runs `fn` with a postgrator bound to a dedicated connection that holds the migration
 * advisory lock, so two replicas starting at once migrate one after the other: the
 * second finds nothing left to do.
 */
async function withMigrator<T>(url: string, fn: (migrator: Postgrator, client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SET client_min_messages = warning');
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const migrator = new Postgrator({
      migrationPattern: path.join(MIGRATIONS_DIR, '*.sql'),
      driver: 'pg',
      database: client.database ?? '',
      schemaTable: SCHEMA_TABLE,
      execQuery: (query) => client.query(query),
    });
    return await fn(migrator, client);
  } finally {
    // Closing the session releases the lock even if unlock is never reached.
    await client.end().catch(() => {});
  }
}

async function runMigration(url: string, target: string | undefined, logger?: Logger): Promise<MigrationResult> {
  return withMigrator(url, async (migrator) => {
    const from = await migrator.getDatabaseVersion();
    migrator.on('migration-started', (m) => logger?.info({ migration: path.basename(m.filename) }, 'migration started'));
    const applied = await migrator.migrate(target);
    const to = await migrator.getDatabaseVersion();
    return { from, to, applied: applied.map((m) => path.basename(m.filename, ".sql")) };
  });
}

/** Applies every pending migration (or up to `target`). */
export function migrate(url: string, options: { target?: number; logger?: Logger } = {}): Promise<MigrationResult> {
  return runMigration(url, options.target === undefined ? 'max' : String(options.target).padStart(3, '0'), options.logger);
}

/** Rolls back to `target` (Default: one version below the current one; 0 = everything). */
export async function rollback(url: string, options: { target?: number; logger?: Logger } = {}): Promise<MigrationResult> {
  const target =
    options.target ??
    (await withMigrator(url, async (migrator) => {
      const current = await migrator.getDatabaseVersion();
      const versions = (await migrator.getMigrations()).map((m) => m.version).filter((v) => v < current);
      return versions.length ? Math.max(...versions) : 0;
    }));
  return runMigration(url, String(target).padStart(3, '0'), options.logger);
}

export interface MigrationStatus {
  current: number;
  latest: number;
  upToDate: boolean;
}

let latestVersion: Promise<number> | undefined;

/** Highest migration version on disk (read once). */
export function latestMigrationVersion(): Promise<number> {
  latestVersion ??= fs.readdir(MIGRATIONS_DIR).then((files) =>
    Math.max(0, ...files.filter((f) => /^\d+\.do\./.test(f)).map((f) => Number.parseInt(f, 10))),
  );
  return latestVersion;
}

/** What /ready reports: the database's schema version against the files shipped. */
export async function migrationStatus(query: (sql: string) => Promise<{ rows: { version: number | null }[] }>): Promise<MigrationStatus> {
  const latest = await latestMigrationVersion();
  let current: number;
  try {
    const { rows } = await query(`SELECT max(version)::int AS version FROM ${SCHEMA_TABLE}`);
    current = rows[0]?.version ?? 0;
  } catch {
    current = 0; // no bookkeeping table yet: nothing applied
  }
  return { current, latest, upToDate: current === latest };
}

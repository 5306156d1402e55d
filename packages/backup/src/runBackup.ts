import type pg from 'pg';
import { AppError, ConflictError, type Clock, type Logger } from '@opsloop/core';
import type { BackupDestination } from './destinations.ts';
import { waitForReadiness, type ReadinessCheck } from './readiness.ts';
import { backupName, takeBackup } from './takeBackup.ts';
import type { BackupManifest } from './types.ts';

export interface BackupDeps {
  pool: pg.Pool;
  clock: Clock;
  logger: Logger;
  destination: BackupDestination;
  readiness: ReadinessCheck;
  /** Complete backups kept in the destination; older ones go after a new one succeeds. (Default: 7) */
  keep?: number;
}

export class NotReadyError extends AppError {
  constructor(reason: string) {
    super(503, 'not_ready', `backup not started: ${reason}`, { reason });
  }
}

export type BackupRunResult =
  | { status: 'succeeded'; id: number; name: string; location: string; destination: string; sizeBytes: number; manifest: BackupManifest; pruned: string[] }
  | { status: 'skipped'; reason: string };

// Arbitrary but fixed: one backup at a time across replicas.
const BACKUP_LOCK_KEY = 7_146_201_010;

/**
 * One backup run as every entry point (API, schedule, CLI) does it: gated on readiness
 * (waits up to `waitMs`; then `skipped` with the reason, or a 503 NotReadyError when
 * `onNotReady` is 'throw'), single flight across replicas, recorded in `ops_backups`,
 * and only after it succeeded are backups beyond `keep` deleted.
 */
export async function runBackup(
  deps: BackupDeps,
  o: { triggeredBy: string; waitMs: number; onNotReady: 'skip' | 'throw'; signal?: AbortSignal },
): Promise<BackupRunResult> {
  const log = deps.logger.child({ component: 'backup' });
  const reason = await waitForReadiness(deps.readiness, { timeoutMs: o.waitMs, signal: o.signal });
  if (reason) {
    log.warn({ reason, triggeredBy: o.triggeredBy }, 'backup skipped: service not ready');
    if (o.onNotReady === 'throw') throw new NotReadyError(reason);
    await recordSkipped(deps, o.triggeredBy, reason).catch(() => {});
    return { status: 'skipped', reason };
  }
  const lock = await deps.pool.connect();
  try {
    const { rows } = await lock.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [BACKUP_LOCK_KEY]);
    if (!rows[0]!.locked) throw new ConflictError('another backup is running');
    try {
      return await backupLocked(deps, o.triggeredBy, log);
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [BACKUP_LOCK_KEY]);
    }
  } finally {
    lock.release();
  }
}

async function backupLocked(deps: BackupDeps, triggeredBy: string, log: Logger): Promise<BackupRunResult> {
  const now = deps.clock.now();
  const name = backupName(now);
  const location = deps.destination.location(name);
  const { rows } = await deps.pool.query<{ id: string }>(
    `INSERT INTO ops_backups (name, triggered_by, status, destination, location, started_at) VALUES ($1, $2, 'running', $3, $4, $5) RETURNING id`,
    [name, triggeredBy, deps.destination.kind, location, now],
  );
  const id = Number(rows[0]!.id);
  let manifest: BackupManifest;
  try {
    manifest = await takeBackup(deps, { destination: deps.destination, name, now: () => deps.clock.now() });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await deps.pool
      .query(`UPDATE ops_backups SET status = 'failed', error = $2, finished_at = $3 WHERE id = $1`, [id, message.slice(0, 2000), deps.clock.now()])
      .catch(() => {});
    log.error({ backup: name, error: message }, 'backup failed');
    throw error;
  }
  await deps.pool.query(
    `UPDATE ops_backups SET status = 'succeeded', size_bytes = $2, schema_version = $3, manifest = $4::jsonb, finished_at = $5 WHERE id = $1`,
    [id, manifest.sizeBytes, manifest.schemaVersion, JSON.stringify({ ...manifest, tables: manifest.tables.map((t) => ({ name: t.name, rows: t.rows, sha256: t.sha256 })) }), deps.clock.now()],
  );
  const pruned = await pruneBackups(deps.destination, deps.keep ?? 7);
  if (pruned.length) log.info({ pruned }, 'old backups deleted');
  return { status: 'succeeded', id, name, location, destination: deps.destination.kind, sizeBytes: manifest.sizeBytes, manifest, pruned };
}

/** Deletes all but the newest `keep` complete backups; returns the deleted names. */
export async function pruneBackups(destination: BackupDestination, keep: number): Promise<string[]> {
  const names = await destination.list();
  const old = names.slice(0, Math.max(0, names.length - keep));
  for (const name of old) await destination.remove(name);
  return old;
}

async function recordSkipped(deps: BackupDeps, triggeredBy: string, reason: string) {
  const now = deps.clock.now();
  await deps.pool.query(
    `INSERT INTO ops_backups (name, triggered_by, status, destination, error, started_at, finished_at) VALUES ($1, $2, 'skipped', $3, $4, $5, $5)`,
    [`${backupName(now)}-skipped`, triggeredBy, deps.destination.kind, reason, now],
  );
}

export interface BackupStatus {
  lastSuccessful: { name: string; finishedAt: Date; sizeBytes: number; destination: string | null; location: string | null } | null;
  recent: { id: number; name: string; triggeredBy: string; status: string; destination: string | null; location: string | null; sizeBytes: number | null; error: string | null; startedAt: Date; finishedAt: Date | null }[];
}

/** What GET /api/ops/backups and the daily summary show. */
export async function backupStatus(pool: pg.Pool, limit = 20): Promise<BackupStatus> {
  const { rows } = await pool.query<{
    id: string; name: string; triggered_by: string; status: string; destination: string | null; location: string | null;
    size_bytes: string | null; error: string | null; started_at: Date; finished_at: Date | null;
  }>(`SELECT id, name, triggered_by, status, destination, location, size_bytes, error, started_at, finished_at FROM ops_backups ORDER BY id DESC LIMIT $1`, [limit]);
  const { rows: last } = await pool.query<{ name: string; finished_at: Date; size_bytes: string; destination: string | null; location: string | null }>(
    `SELECT name, finished_at, size_bytes, destination, location FROM ops_backups WHERE status = 'succeeded' ORDER BY finished_at DESC LIMIT 1`,
  );
  const l = last[0];
  return {
    lastSuccessful: l ? { name: l.name, finishedAt: l.finished_at, sizeBytes: Number(l.size_bytes), destination: l.destination, location: l.location } : null,
    recent: rows.map((r) => ({
      id: Number(r.id), name: r.name, triggeredBy: r.triggered_by, status: r.status, destination: r.destination, location: r.location,
      sizeBytes: r.size_bytes === null ? null : Number(r.size_bytes), error: r.error, startedAt: r.started_at, finishedAt: r.finished_at,
    })),
  };
}

/**
 * opsloop backups, in one glossary:
 *
 * - backup       A consistent logical copy of every opsloop table, taken in one
 *                REPEATABLE READ snapshot: one gzip file of `COPY … TO STDOUT` text per
 *                table plus `manifest.json`. Named `opsloop-<UTC timestamp>`; names sort
 *                in time order.
 * - manifest     What a restore checks against: schema version, per-table columns, row
 *                count and SHA-256 of the uncompressed COPY text, opsloop version, duration.
 *                Written last: a backup without one is incomplete and never listed.
 * - destination  Where backups live: a directory (BACKUP_DIR) or an S3-compatible bucket
 *                (BACKUP_S3_*). Retention keeps the newest `keep` there.
 * - readiness    A backup starts only when the database answers and its migrations are
 *                current; a backup of a half-migrated database is worse than none.
 */
export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 1;

export interface TableManifest {
  name: string;
  /** Column order of the COPY text. */
  columns: string[];
  rows: number;
  /** SHA-256 (hex) of the uncompressed COPY text, rows in primary-key order. */
  sha256: string;
  /** Path of the gzip file inside the backup. */
  file: string;
  /** Compressed size. */
  bytes: number;
}

export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  name: string;
  createdAt: string;
  opsloopVersion: string;
  schemaVersion: number;
  durationMs: number;
  totalRows: number;
  sizeBytes: number;
  tables: TableManifest[];
}

export class BackupError extends Error {
  override name = 'BackupError';
}

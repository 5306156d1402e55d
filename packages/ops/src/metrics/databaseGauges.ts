import type pg from 'pg';
import type { Clock } from '@opsloop/core';

export interface DatabaseSnapshot {
  queued: { kind: string; depth: number; oldest_seconds: number | null }[];
  running: { kind: string; n: number }[];
  tables: { table: string; rows: number }[];
  heartbeat_at: number | null;
  backup_at: number | null;
}

/**
 * What the gauges describing the shared database read: one statement over partial
 * indexes and catalog estimates (never count(*) on big tables), cached for `maxAgeMs`
 * so scrapes from several Prometheus servers cost one query per process per interval.
 */
export function cachedDatabaseSnapshot(pool: pg.Pool, clock: Clock, maxAgeMs = 10_000): () => Promise<DatabaseSnapshot> {
  let cached: { at: number; value: Promise<DatabaseSnapshot> } | undefined;
  return () => {
    const now = performance.now();
    if (cached && now - cached.at < maxAgeMs) return cached.value;
    const value = query(pool, clock.now());
    cached = { at: now, value };
    // A failed query is not cached: the next scrape tries again.
    value.catch(() => {
      if (cached?.value === value) cached = undefined;
    });
    return value;
  };
}

async function query(pool: pg.Pool, now: Date): Promise<DatabaseSnapshot> {
  const { rows } = await pool.query<DatabaseSnapshot>(
    `SELECT
       (SELECT coalesce(jsonb_agg(q), '[]') FROM (
          SELECT kind, count(*)::int AS depth,
                 extract(epoch FROM ($1::timestamptz - min(run_after) FILTER (WHERE run_after <= $1::timestamptz)))::float8 AS oldest_seconds
          FROM ops_mission_steps WHERE status = 'queued' GROUP BY kind) q) AS queued,
       (SELECT coalesce(jsonb_agg(r), '[]') FROM (
          SELECT kind, count(*)::int AS n FROM ops_mission_steps WHERE status = 'running' GROUP BY kind) r) AS running,
       (SELECT coalesce(jsonb_agg(t), '[]') FROM (
          SELECT relname AS "table", greatest(reltuples, 0)::bigint AS rows FROM pg_class
          WHERE relnamespace = 'public'::regnamespace AND relkind = 'r') t) AS tables,
       (SELECT extract(epoch FROM finished_at)::float8 FROM ops_heartbeat_runs
         WHERE status IN ('succeeded', 'partial') ORDER BY id DESC LIMIT 1) AS heartbeat_at,
       (SELECT extract(epoch FROM max(finished_at))::float8 FROM ops_backups WHERE status = 'succeeded') AS backup_at`,
    [now],
  );
  return rows[0]!;
}

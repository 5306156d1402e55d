import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Logger } from '@opsloop/core';

/**
 * Tables read through a partial "due" index from its oldest entry (the claim's
 * `ops_mission_steps_queue_idx`, the reaction queue's `ops_reactions_due_idx`). A row that
 * leaves the queue leaves a dead entry at the front of that index, and every ordered scan
 * steps over it until VACUUM removes it: after a burst of 20,000 steps, each claim read
 * 185 index pages instead of 4 (+0.3 ms). Autovacuum does this where it is on and keeps
 * up (migration 013 tunes it for the steps table); this covers where it is off, as on
 * some self-hosted servers, or behind.
 */
const QUEUE_TABLES = ['ops_mission_steps', 'ops_reactions'];

export interface VacuumQueuesOptions {
  /** Dead rows (pg_stat_user_tables.n_dead_tup) at which a table is vacuumed. (Default: 10,000) */
  deadRows?: number;
  /** Time for all of it: each VACUUM may run for what is left, then it is cancelled. (Default: 25,000) */
  timeoutMs?: number;
}

export interface VacuumQueuesResult {
  /** Dead rows per queue table, as the statistics counted them before this run. */
  deadRows: Record<string, number>;
  vacuumed: string[];
  /** Due but not vacuumed, and why (the server's own words when it skipped the table). */
  skipped?: Record<string, string>;
}

/**
 * A heartbeat phase: VACUUMs each queue table whose dead rows reached the threshold.
 * VACUUM without FULL or TRUNCATE takes no lock that blocks claims or writes (truncating
 * the file's empty tail would: ACCESS EXCLUSIVE, however briefly). A table counts as
 * vacuumed only when its vacuum count went up: PostgreSQL skips a table with a mere
 * warning when another VACUUM holds it (SKIP_LOCKED) or when this role may not vacuum it.
 */
export async function vacuumQueues(deps: { pool: pg.Pool; logger: Logger }, o: VacuumQueuesOptions = {}): Promise<VacuumQueuesResult> {
  const t0 = performance.now();
  const threshold = o.deadRows ?? 10_000;
  const timeoutMs = o.timeoutMs ?? 25_000;
  const { rows } = await deps.pool.query<{ relname: string; dead: number }>(
    `SELECT relname, n_dead_tup::int AS dead FROM pg_stat_user_tables
     WHERE schemaname = current_schema() AND relname = ANY($1::text[]) ORDER BY relname`,
    [QUEUE_TABLES],
  );
  const deadRows = Object.fromEntries(rows.map((r) => [r.relname, r.dead]));
  const due = rows.filter((r) => r.dead >= threshold).map((r) => r.relname);
  const vacuumed: string[] = [];
  const skipped: Record<string, string> = {};
  if (!due.length) return { deadRows, vacuumed };

  const client = await deps.pool.connect();
  const notices: string[] = [];
  const onNotice = (notice: { message?: string }) => notices.push(notice.message ?? '');
  client.on('notice', onNotice);
  let broken: Error | undefined;
  try {
    for (const table of due) {
      const left = Math.floor(timeoutMs - (performance.now() - t0));
      if (left < 100) {
        skipped[table] = 'out of time: the next heartbeat tries again';
        continue;
      }
      const count = async () =>
        (await client.query<{ n: string }>(`SELECT vacuum_count AS n FROM pg_stat_user_tables WHERE relid = $1::regclass`, [table])).rows[0]?.n;
      const before = await count();
      // VACUUM cannot run in a transaction, so the timeout is set on the session (and
      // reset before the connection goes back to the pool).
      await client.query(`SET statement_timeout = ${left}`);
      notices.length = 0;
      try {
        await client.query(`VACUUM (SKIP_LOCKED, TRUNCATE false) ${pg.escapeIdentifier(table)}`);
      } catch (error) {
        if ((error as { code?: string }).code !== '57014') throw error;
        skipped[table] = `cancelled after ${left} ms: the table is too large to vacuum within a heartbeat; let autovacuum do it, or run VACUUM ${table} by hand`;
        continue;
      }
      if ((await count()) !== before) vacuumed.push(table);
      else skipped[table] = notices.join('; ') || 'skipped by the server';
    }
  } finally {
    client.off('notice', onNotice);
    await client.query('RESET statement_timeout').catch((error: unknown) => (broken = error as Error));
    client.release(broken);
  }
  const result = { deadRows, vacuumed, ...(Object.keys(skipped).length ? { skipped } : {}) };
  if (result.skipped) deps.logger.warn(result, 'queue tables due for a VACUUM were not vacuumed');
  else deps.logger.info(result, 'vacuumed queue tables');
  return result;
}

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
  /** Longest one VACUUM may run; it is cancelled after, and the next heartbeat retries. (Default: 8000) */
  timeoutMs?: number;
}

export interface VacuumQueuesResult {
  /** Dead rows per queue table, as the statistics counted them before this run. */
  deadRows: Record<string, number>;
  vacuumed: string[];
  /** Due, but this role may not vacuum them (only their owner may): left to autovacuum. */
  notOwner?: string[];
}

/**
 * A heartbeat phase: VACUUMs each queue table whose dead rows reached the threshold.
 * VACUUM without FULL or TRUNCATE takes no lock that blocks claims or writes (truncating
 * the file's empty tail would: ACCESS EXCLUSIVE, however briefly); SKIP_LOCKED passes
 * over a table that another VACUUM (autovacuum's, say) is already cleaning.
 */
export async function vacuumQueues(deps: { pool: pg.Pool; logger: Logger }, o: VacuumQueuesOptions = {}): Promise<VacuumQueuesResult> {
  const threshold = o.deadRows ?? 10_000;
  // VACUUM by a role that does not own the table only warns and skips it: ask first, so
  // the phase never reports a vacuum that did not happen.
  const { rows } = await deps.pool.query<{ relname: string; dead: number; owned: boolean }>(
    `SELECT s.relname, s.n_dead_tup::int AS dead, pg_has_role(c.relowner, 'USAGE') AS owned
     FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
     WHERE s.schemaname = current_schema() AND s.relname = ANY($1::text[]) ORDER BY s.relname`,
    [QUEUE_TABLES],
  );
  const deadRows = Object.fromEntries(rows.map((r) => [r.relname, r.dead]));
  const due = rows.filter((r) => r.dead >= threshold && r.owned).map((r) => r.relname);
  const notOwner = rows.filter((r) => r.dead >= threshold && !r.owned).map((r) => r.relname);
  const vacuumed: string[] = [];
  if (notOwner.length) deps.logger.warn({ tables: notOwner, deadRows }, 'queue tables need a VACUUM this role may not run (not their owner); autovacuum must keep up');
  if (!due.length) return { deadRows, vacuumed, ...(notOwner.length ? { notOwner } : {}) };

  const client = await deps.pool.connect();
  let broken: Error | undefined;
  try {
    // VACUUM cannot run in a transaction, so the timeout is set on the session and reset
    // before the connection goes back to the pool.
    await client.query(`SET statement_timeout = ${Math.max(1, Math.floor(o.timeoutMs ?? 8000))}`);
    for (const table of due) {
      await client.query(`VACUUM (SKIP_LOCKED, TRUNCATE false) ${pg.escapeIdentifier(table)}`);
      vacuumed.push(table);
    }
  } finally {
    await client.query('RESET statement_timeout').catch((error: unknown) => (broken = error as Error));
    client.release(broken);
  }
  deps.logger.info({ vacuumed, deadRows }, 'vacuumed queue tables');
  return { deadRows, vacuumed, ...(notOwner.length ? { notOwner } : {}) };
}

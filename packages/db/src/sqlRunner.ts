import type pg from 'pg';
import type { DbClient } from './client.ts';

/** One raw statement: numbered parameters; `name` prepares it once per pool connection. */
export interface SqlQuery {
  text: string;
  values: unknown[];
  name?: string;
}

/**
 * Where a raw statement runs: straight on the pg pool (or a checked-out client) on the
 * hot paths, or inside a Prisma transaction when the caller composes several operations.
 * The same SQL text serves both, so a hot path is not a second implementation.
 */
export interface SqlRunner {
  query<T>(q: SqlQuery): Promise<T[]>;
}

export function pgRunner(client: pg.Pool | pg.PoolClient): SqlRunner {
  return {
    async query<T>(q: SqlQuery) {
      return (await client.query(q as pg.QueryConfig)).rows as T[];
    },
  };
}

export function prismaRunner(db: DbClient): SqlRunner {
  return { query: <T>(q: SqlQuery) => db.$queryRawUnsafe<T[]>(q.text, ...q.values) };
}

/** For functions that run on either: a Prisma client or transaction, or a SqlRunner. */
export function asSqlRunner(db: DbClient | SqlRunner): SqlRunner {
  return '$queryRawUnsafe' in db ? prismaRunner(db) : db;
}

/**
 * Runs `fn` in a transaction on one pool connection (BEGIN/COMMIT, ROLLBACK on error),
 * for the few hot-path cases that need more than one statement atomically.
 */
export async function inPgTransaction<T>(pool: pg.Pool, fn: (sql: SqlRunner) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A connection whose ROLLBACK failed is broken: destroyed, not returned to the pool.
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(pgRunner(client));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
    throw error;
  } finally {
    client.release(broken);
  }
}

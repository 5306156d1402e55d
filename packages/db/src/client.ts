import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, Prisma } from './generated/prisma/client.ts';

export { Prisma, PrismaClient };

/** A Prisma client or an open transaction of one: what every query function accepts. */
export type DbClient = PrismaClient | Prisma.TransactionClient;

/**
 * The process's database handle. Prisma and the raw `pool` share one pg.Pool so the
 * pool size (DATABASE_POOL_SIZE) bounds every connection the process opens, except the
 * dedicated LISTEN connection of the worker.
 */
export interface Database {
  prisma: PrismaClient;
  /** For session-scoped work Prisma cannot express: advisory locks, LISTEN/NOTIFY. */
  pool: pg.Pool;
  url: string;
  close(): Promise<void>;
}

export interface CreateDatabaseOptions {
  url: string;
  /** Largest number of pooled connections. (Default: 10) */
  poolSize?: number;
}

export function createDatabase(options: CreateDatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
  });
  // An idle client that loses its server (restart, failover) emits here; without a
  // listener that would crash the process. The pool replaces the client on next use.
  pool.on('error', () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  let closed: Promise<void> | undefined;
  return {
    prisma,
    pool,
    url: options.url,
    close: () => (closed ??= prisma.$disconnect().then(() => pool.end())),
  };
}

/**
 * Runs `fn` inside `tx` when the caller already has a transaction, otherwise in a new
 * one: query functions take an optional `tx` last so callers can compose them.
 */
export function inTransaction<T>(
  db: DbClient,
  fn: (tx: Prisma.TransactionClient) => Promise<T>,
  options?: { isolationLevel?: Prisma.TransactionIsolationLevel; timeout?: number },
): Promise<T> {
  if ('$transaction' in db) {
    return db.$transaction(fn, { maxWait: 10_000, timeout: options?.timeout ?? 15_000, isolationLevel: options?.isolationLevel });
  }
  return fn(db);
}

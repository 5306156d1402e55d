import { randomInt } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from '@opsloop/core';

/**
 * How replicas know whether the scheduler that claimed a tick is still alive.
 *
 * Each scheduler holds a session-level advisory lock `(OWNER_LOCK_NAMESPACE, key)` on a
 * connection it keeps checked out of the pool, with a random `key` that it writes as
 * `owner_key` on every tick it claims. PostgreSQL releases the lock when that session
 * ends (the process died, was killed, or lost its connection), so a `running` tick whose
 * lock is absent from `pg_locks` belongs to nobody: it is `abandoned` (see
 * abandonedTicks.ts). pg_locks, unlike most of pg_stat_activity, is readable by any role.
 */
export const OWNER_LOCK_NAMESPACE = 71_462_005;

export interface OwnerSession {
  /** The lock key, once the lock is held; (re)connects when the session was lost. */
  key(): Promise<number>;
  /** Releases the lock and returns the connection. */
  close(): Promise<void>;
}

export function openOwnerSession(pool: pg.Pool, logger: Logger): OwnerSession {
  let key = randomKey();
  let session: Connection | undefined;
  let connecting: Promise<number> | undefined;
  let closed = false;

  /** A checked-out client that goes back to the pool exactly once, however it ends. */
  interface Connection {
    client: pg.PoolClient;
    drop(error?: Error): void;
  }

  async function connect(): Promise<number> {
    const client = await pool.connect();
    let released = false;
    const conn: Connection = {
      client,
      drop(error) {
        if (released) return;
        released = true;
        if (session === conn) session = undefined;
        // A client released with an error is destroyed, not reused.
        client.release(error ?? true);
      },
    };
    client.on('error', (error) => {
      // The session is gone, and with it the lock: our running ticks may be declared
      // abandoned until we hold the lock again.
      if (!released) logger.warn({ err: error }, 'scheduler owner session lost; reconnecting on next claim');
      conn.drop(error);
    });
    try {
      for (let attempt = 0; ; attempt++) {
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [OWNER_LOCK_NAMESPACE, key]);
        if (rows[0]?.locked) break;
        // Another live scheduler drew the same key: draw again.
        if (attempt >= 5) throw new Error('could not take a scheduler owner lock');
        key = randomKey();
      }
    } catch (error) {
      conn.drop(error instanceof Error ? error : undefined);
      throw error;
    }
    if (closed) {
      conn.drop();
      throw new Error('scheduler owner session closed');
    }
    session = conn;
    return key;
  }

  return {
    key() {
      if (closed) return Promise.reject(new Error('scheduler owner session closed'));
      if (session) return Promise.resolve(key);
      return (connecting ??= connect().finally(() => (connecting = undefined)));
    },
    async close() {
      closed = true;
      await connecting?.catch(() => {});
      // Destroying the connection ends the session, which releases the lock.
      session?.drop();
    },
  };
}

function randomKey(): number {
  return randomInt(1, 2 ** 31 - 1);
}

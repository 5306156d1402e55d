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
  let client: pg.PoolClient | undefined;
  let connecting: Promise<number> | undefined;
  let closed = false;

  async function connect(): Promise<number> {
    const c = await pool.connect();
    let lost = false;
    c.on('error', (error) => {
      // The session is gone, and with it the lock: our running ticks may be declared
      // abandoned until we hold the lock again.
      lost = true;
      logger.warn({ err: error }, 'scheduler owner session lost; reconnecting on next claim');
      if (client === c) client = undefined;
      c.release(error);
    });
    try {
      for (let attempt = 0; ; attempt++) {
        const { rows } = await c.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [OWNER_LOCK_NAMESPACE, key]);
        if (rows[0]?.locked) break;
        // Another live scheduler drew the same key: draw again.
        if (attempt >= 5) throw new Error('could not take a scheduler owner lock');
        key = randomKey();
      }
    } catch (error) {
      if (!lost) c.release(error instanceof Error ? error : true);
      throw error;
    }
    if (closed) {
      await release(c);
      throw new Error('scheduler owner session closed');
    }
    client = c;
    return key;
  }

  async function release(c: pg.PoolClient): Promise<void> {
    try {
      await c.query('SELECT pg_advisory_unlock($1, $2)', [OWNER_LOCK_NAMESPACE, key]);
      c.release();
    } catch (error) {
      c.release(error instanceof Error ? error : true);
    }
  }

  return {
    key() {
      if (closed) return Promise.reject(new Error('scheduler owner session closed'));
      if (client) return Promise.resolve(key);
      return (connecting ??= connect().finally(() => (connecting = undefined)));
    },
    async close() {
      closed = true;
      await connecting?.catch(() => {});
      const c = client;
      client = undefined;
      if (c) await release(c);
    },
  };
}

function randomKey(): number {
  return randomInt(1, 2 ** 31 - 1);
}

import type pg from 'pg';
import { migrationStatus } from '@opsloop/db';

/** undefined when a backup may start; otherwise why not. */
export type ReadinessCheck = () => Promise<string | undefined>;

/** The database answers and its schema is at the version this opsloop ships. */
export function databaseReadiness(pool: pg.Pool, processReason: () => string | undefined = () => undefined): ReadinessCheck {
  return async () => {
    const reason = processReason();
    if (reason) return `service ${reason}`;
    try {
      const m = await migrationStatus((sql) => pool.query(sql));
      return m.upToDate ? undefined : `migrations not current (database at ${m.current}, opsloop ships ${m.latest})`;
    } catch {
      return 'database unreachable';
    }
  };
}

/**
 * Polls `check` until it passes or `timeoutMs` is over; returns the last reason when it
 * never passed. `timeoutMs` 0 checks once.
 */
export async function waitForReadiness(check: ReadinessCheck, o: { timeoutMs: number; pollMs?: number; signal?: AbortSignal }): Promise<string | undefined> {
  const deadline = performance.now() + o.timeoutMs;
  for (;;) {
    const reason = await check();
    if (!reason || performance.now() >= deadline || o.signal?.aborted) return reason;
    await new Promise((resolve) => setTimeout(resolve, Math.min(o.pollMs ?? 250, Math.max(0, deadline - performance.now()))));
  }
}

import { backoffDelayMs, sleep } from '@opsloop/core';

/** SQLSTATEs worth retrying: serialization failure, deadlock, server starting/restarting. */
const TRANSIENT_CODES = new Set(['40001', '40P01', '57P03', '08006', '08003']);

/** Finds a PostgreSQL SQLSTATE in a pg error or in a Prisma error wrapping one. */
export function pgErrorCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as Record<string, unknown>;
    // Prisma's own codes (P1xxx–P6xxx) look like SQLSTATEs; the real one is further in.
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && !/^P[1-9]\d{3}$/.test(e.code)) return e.code;
    if (typeof e.originalCode === 'string') return e.originalCode;
    const meta = e.meta as Record<string, unknown> | undefined;
    current = meta?.driverAdapterError ?? e.cause;
  }
  return undefined;
}

/**
 * Class 22 (data exception: a value out of range, invalid text for its type, a byte
 * sequence the encoding refuses) is caused by the values a statement was given. Where
 * those came from a client, it is a 400; validation should have caught it first.
 */
export function isDataExceptionPgError(error: unknown): boolean {
  return pgErrorCode(error)?.startsWith('22') ?? false;
}

export function isTransientPgError(error: unknown): boolean {
  const code = pgErrorCode(error);
  return code !== undefined && TRANSIENT_CODES.has(code);
}

/**
 * Retries `fn` on transient PostgreSQL errors with jittered backoff. The one place that
 * does this, so callers stay straight-line. `fn` must be safe to re-run (a transaction).
 */
export async function withTransientRetry<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt + 1 >= attempts || !isTransientPgError(error)) throw error;
      await sleep(backoffDelayMs(attempt, 10, 500));
    }
  }
}

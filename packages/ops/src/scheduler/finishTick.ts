import type { Clock } from '@opsloop/core';
import { withTransientRetry, type PrismaClient } from '@opsloop/db';

/** Most bytes of JSON a run's `details` keeps; a larger result is stored as a preview. (Default: 4096) */
export const MAX_DETAILS_BYTES = 4096;
/** Most characters of an error message stored. */
export const MAX_ERROR_CHARS = 2000;

/**
 * Settles a claimed tick: outcome, reason (skipped), error message (no stack), the job's
 * detail, finished_at. A tick another replica marked `abandoned` while its owner's
 * session was briefly lost is settled too: the owner is the one that knows how it ended.
 */
export async function finishTick(
  deps: { prisma: PrismaClient; clock: Clock },
  o: { runId: string; outcome: 'succeeded' | 'failed' | 'skipped'; reason?: string; error?: string; detail?: unknown },
): Promise<void> {
  const now = deps.clock.now();
  const details = jsonSummary(o.detail);
  const error = o.error === undefined ? null : o.error.slice(0, MAX_ERROR_CHARS);
  const reason = o.reason === undefined ? null : o.reason.slice(0, MAX_ERROR_CHARS);
  await withTransientRetry(
    () => deps.prisma.$executeRaw`
      UPDATE ops_schedule_runs
      SET outcome = ${o.outcome}, reason = ${reason}, error = ${error}, details = ${details}::jsonb, finished_at = ${now}::timestamptz
      WHERE id = ${BigInt(o.runId)} AND outcome IN ('running', 'abandoned')`,
  );
}

/**
 * A job's return value as JSON text fit for a jsonb column, or null: bigints become
 * strings, errors `{ error: message }`, an object met a second time (a cycle, or a
 * shared reference) "[Circular]"; anything over `maxBytes`
 * becomes `{ truncated: true, bytes, preview }`.
 */
export function jsonSummary(value: unknown, maxBytes = MAX_DETAILS_BYTES): string | null {
  if (value === undefined) return null;
  const seen = new WeakSet<object>();
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof Error) return { error: v.message };
      if (v !== null && typeof v === 'object') {
        if (seen.has(v)) return '[Circular]';
        seen.add(v);
      }
      return v;
    });
  } catch (error) {
    text = JSON.stringify({ unserialisable: error instanceof Error ? error.message : String(error) });
  }
  if (text === undefined) return null;
  const bytes = Buffer.byteLength(text);
  if (bytes <= maxBytes) return text;
  return JSON.stringify({ truncated: true, bytes, preview: truncateUtf8(text, maxBytes - 100) });
}

function truncateUtf8(text: string, maxBytes: number): string {
  const buf = Buffer.from(text).subarray(0, Math.max(0, maxBytes));
  return buf.toString('utf8').replace(/\uFFFD$/, '');
}

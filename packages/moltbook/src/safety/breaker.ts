/**
 * The Moltbook circuit breaker, one row per account in `moltbook_accounts`, so every
 * replica sees the same state and a restart forgets nothing.
 *
 * - closed     writes go ahead.
 * - open       no write at all until `paused_until` (a suspension's stated end, or the
 *              policy's pause after verification failures or a refused key), or until an
 *              operator resets it.
 * - half_open  the pause is over: exactly one write (the probe) is let through, claimed
 *              under the row; its outcome closes the breaker or opens it again. A probe
 *              that never reports (its process died) is given up after PROBE_STALE_MS.
 *
 * Opening writes a `moltbook:breaker_opened` event and raises one `moltbook_breaker`
 * alert through the ops alert path (Slack), at most once per cooldown; a failed probe
 * reopens it without a new alert (same incident).
 */
import type { Clock, Logger } from '@opsloop/core';
import type { DbClient, PrismaClient } from '@opsloop/db';
import { inTransaction } from '@opsloop/db';
import { raiseAlert, writeEvents, type PolicyReader } from '@opsloop/ops';
import { readAccount } from './account.ts';

export const PROBE_STALE_MS = 10 * 60_000;

export type BreakerReason = 'verification_failures' | 'suspended' | 'unauthorized';

export interface BreakerDeps {
  prisma: PrismaClient;
  clock: Clock;
  logger: Logger;
  policy: PolicyReader;
}

export type WritePermit =
  | { allowed: true; probe: boolean }
  | { allowed: false; state: 'open' | 'half_open'; reason: string | null; pausedUntil: Date | null };

const event = (kind: string, payload: Record<string, unknown>, now: Date, warning = false) => ({
  kind,
  source: 'moltbook',
  skill: 'moltbook_engagement',
  tags: warning ? ['warning'] : [],
  payload,
  createdAt: now,
});

/**
 * Asks to write once. Closed: yes. Open past its pause, or half-open with no live probe:
 * yes, as the probe (the row moves to half_open and records the probe's start). Otherwise no.
 */
export async function acquireWrite(deps: BreakerDeps, accountId: string): Promise<WritePermit> {
  const now = deps.clock.now();
  const row = await readAccount(deps.prisma, accountId);
  if (row.breaker_state === 'closed') return { allowed: true, probe: false };
  const staleBefore = new Date(now.getTime() - PROBE_STALE_MS);
  const claimed = await deps.prisma.$queryRaw<{ account_id: string }[]>`
    UPDATE moltbook_accounts SET breaker_state = 'half_open', probe_started_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
    WHERE account_id = ${accountId}
      AND ((breaker_state = 'open' AND (paused_until IS NULL OR paused_until <= ${now}::timestamptz))
        OR (breaker_state = 'half_open' AND (probe_started_at IS NULL OR probe_started_at < ${staleBefore}::timestamptz)))
    RETURNING account_id`;
  if (claimed.length > 0) {
    await writeEvents(deps.prisma, [event('moltbook:breaker_half_open', { account_id: accountId, reason: row.breaker_reason }, now)]);
    deps.logger.info({ accountId }, 'moltbook breaker half-open: one probe write');
    return { allowed: true, probe: true };
  }
  const fresh = await readAccount(deps.prisma, accountId);
  if (fresh.breaker_state === 'closed') return { allowed: true, probe: false };
  return { allowed: false, state: fresh.breaker_state, reason: fresh.breaker_reason, pausedUntil: fresh.paused_until };
}

/** Whether writes are stopped right now (without claiming a probe). */
export async function writesPaused(deps: BreakerDeps, accountId: string): Promise<{ paused: boolean; reason: string | null; pausedUntil: Date | null }> {
  const now = deps.clock.now();
  const row = await readAccount(deps.prisma, accountId);
  const paused =
    (row.breaker_state === 'open' && row.paused_until !== null && row.paused_until > now) ||
    (row.breaker_state === 'half_open' && row.probe_started_at !== null && row.probe_started_at.getTime() > now.getTime() - PROBE_STALE_MS);
  return { paused, reason: row.breaker_reason, pausedUntil: row.paused_until };
}

/**
 * Stops all writes until `until` (Default: now + the policy's pause). An already open
 * breaker keeps its opening time and moves its end only later, never earlier.
 */
export async function openBreaker(deps: BreakerDeps, accountId: string, reason: BreakerReason, detail: string, until?: Date | null): Promise<void> {
  const now = deps.clock.now();
  const { moltbook_safety: safety } = await deps.policy.read(deps.prisma, ['moltbook_safety']);
  const end = until ?? new Date(now.getTime() + safety.breaker_pause_minutes * 60_000);
  await readAccount(deps.prisma, accountId);
  await inTransaction(deps.prisma, async (tx) => {
    const [before] = await tx.$queryRaw<{ breaker_state: string }[]>`
      SELECT breaker_state FROM moltbook_accounts WHERE account_id = ${accountId} FOR UPDATE`;
    const wasOpen = before?.breaker_state === 'open';
    await tx.$executeRaw`
      UPDATE moltbook_accounts SET
        breaker_state = 'open',
        breaker_reason = ${reason},
        breaker_detail = ${detail.slice(0, 500)},
        breaker_opened_at = CASE WHEN breaker_state = 'open' THEN breaker_opened_at ELSE ${now}::timestamptz END,
        paused_until = CASE WHEN breaker_state = 'open' AND paused_until > ${end}::timestamptz THEN paused_until ELSE ${end}::timestamptz END,
        probe_started_at = NULL,
        updated_at = ${now}::timestamptz
      WHERE account_id = ${accountId}`;
    if (wasOpen) return;
    const reopened = before?.breaker_state === 'half_open';
    const payload = { account_id: accountId, reason, detail: detail.slice(0, 500), paused_until: end, reopened };
    await writeEvents(tx, [event('moltbook:breaker_opened', payload, now, true)]);
    // A failed probe continues the incident that was already alerted.
    if (reopened) return;
    await alertOnce(tx, safety.alert_cooldown_minutes, now, {
      kind: 'moltbook_breaker',
      message: `:octagonal_sign: opsloop: Moltbook writes stopped (${reason}) until ${end.toISOString()}: ${detail.slice(0, 300)}`,
      payload,
    });
  });
  deps.logger.warn({ accountId, reason, until: end }, 'moltbook breaker open: writes stopped');
}

async function alertOnce(tx: DbClient, cooldownMinutes: number, now: Date, alert: { kind: string; message: string; payload: Record<string, unknown> }) {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended('opsloop:moltbook_breaker_alert', 0))`;
  const since = new Date(now.getTime() - cooldownMinutes * 60_000);
  const recent = await tx.opsAlert.count({ where: { kind: alert.kind, createdAt: { gt: since } } });
  if (recent === 0) await raiseAlert(tx, alert, now);
}

async function close(deps: BreakerDeps, accountId: string, why: string): Promise<void> {
  const now = deps.clock.now();
  const closed = await deps.prisma.$executeRaw`
    UPDATE moltbook_accounts SET breaker_state = 'closed', consecutive_failures = 0, paused_until = NULL, probe_started_at = NULL,
      breaker_detail = NULL, updated_at = ${now}::timestamptz
    WHERE account_id = ${accountId} AND breaker_state <> 'closed'`;
  if (closed) {
    await writeEvents(deps.prisma, [event('moltbook:breaker_closed', { account_id: accountId, why }, now)]);
    deps.logger.info({ accountId, why }, 'moltbook breaker closed: writes resume');
  }
}

/** A write went through without a challenge: a half-open probe succeeded. */
export async function recordWriteAccepted(deps: BreakerDeps, accountId: string, probe: boolean): Promise<void> {
  if (probe) await close(deps, accountId, 'probe write accepted');
}

/**
 * A challenge's outcome. Verified resets the failure count (and closes a half-open
 * breaker); a failure counts, and the threshold (or any failure of the probe) opens it.
 */
export async function recordVerification(deps: BreakerDeps, accountId: string, verified: boolean, detail: string): Promise<void> {
  const now = deps.clock.now();
  await readAccount(deps.prisma, accountId);
  if (verified) {
    await deps.prisma.$executeRaw`UPDATE moltbook_accounts SET consecutive_failures = 0, updated_at = ${now}::timestamptz WHERE account_id = ${accountId}`;
    await close(deps, accountId, 'probe verified');
    return;
  }
  const { moltbook_safety: safety } = await deps.policy.read(deps.prisma, ['moltbook_safety']);
  const [row] = await deps.prisma.$queryRaw<{ consecutive_failures: number; breaker_state: string }[]>`
    UPDATE moltbook_accounts SET consecutive_failures = consecutive_failures + 1, updated_at = ${now}::timestamptz
    WHERE account_id = ${accountId} RETURNING consecutive_failures, breaker_state`;
  if (row!.breaker_state === 'half_open' || row!.consecutive_failures >= safety.breaker_failure_threshold) {
    await openBreaker(deps, accountId, 'verification_failures', `${row!.consecutive_failures} consecutive verification failures; last: ${detail}`);
  }
}

/** An operator's reset: writes resume at once. */
export async function resetBreaker(deps: BreakerDeps, accountId: string): Promise<void> {
  await readAccount(deps.prisma, accountId);
  await close(deps, accountId, 'operator reset');
}

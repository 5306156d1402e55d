import type { OpsDeps } from '../types.ts';
import { POLICY_LEASE_SECONDS_SQL } from './leaseSeconds.ts';

export interface ClaimedStep {
  id: string;
  missionId: string;
  position: number;
  kind: string;
  skill: string;
  params: Record<string, unknown>;
  attempt: number;
  maxAttempts: number;
  timeoutSeconds: number;
  leaseToken: string;
  leaseExpiresAt: Date;
  /** This lease's length: renew by as much. */
  leaseSeconds: number;
  traceId: string;
  /** When the step became claimable. */
  runAfter: Date;
}

export interface ClaimOptions {
  workerId: string;
  kinds: string[];
  /** Most steps to lease in this call. */
  max: number;
  /** (Default: `step_defaults.lease_seconds` from policy) */
  leaseSeconds?: number;
}

/**
 * Leases up to `max` claimable steps to one worker, atomically and safely across
 * processes: `opsloop_pick_steps` locks with FOR UPDATE SKIP LOCKED, so concurrent
 * claimers never wait on or receive the same row. One statement also opens the attempt's
 * run row, marks missions running and writes the events. Claims nothing while the kill
 * switch is off.
 *
 * This is the hot path of every step: it runs on the pg pool as a named prepared
 * statement (parsed once per connection, no ORM in between).
 */
export async function claimSteps(deps: Pick<OpsDeps, 'pool' | 'clock' | 'observer'>, o: ClaimOptions): Promise<ClaimedStep[]> {
  return (await claimBatch(deps, o)).steps;
}

/**
 * claimSteps, and whether claimable steps were left behind (`more`): the claim picks
 * one row beyond `max` to know, and counts a picked step it could not see (see
 * opsloop_claim_steps, migration 015). The in-process worker uses it to claim again or
 * wake a peer only when there is something to take, instead of on speculation.
 */
export async function claimBatch(deps: Pick<OpsDeps, 'pool' | 'clock' | 'observer'>, o: ClaimOptions): Promise<{ steps: ClaimedStep[]; more: boolean }> {
  if (o.kinds.length === 0 || o.max <= 0) return { steps: [], more: false };
  const now = deps.clock.now();
  const { rows } = await deps.pool.query<ClaimedStep & { more?: boolean }>({
    name: 'opsloop_claim_steps',
    text: CLAIM_SQL,
    // A kind named twice would be scanned twice, and the statement's own row locks do not
    // make SKIP LOCKED skip: the same step would be picked twice and fill two of `max`.
    values: [[...new Set(o.kinds)], now, o.max, o.workerId, o.leaseSeconds ?? null],
  });
  // One row even when nothing was claimed (id null), to carry `more`.
  const more = rows[0]?.more === true;
  const steps = rows.filter((row) => row.id !== null);
  for (const row of steps) delete row.more;
  if (steps.length) deps.observer?.stepsClaimed(steps, now);
  return { steps, more };
}

// $1 kinds, $2 now, $3 max, $4 worker id, $5 lease seconds (null: the policy's).
// The claim itself is opsloop_pick_steps and opsloop_claim_steps (sql/migrations 011, 015:
// functions, so their plans hold at any table size); this statement adds the policy.
// The kill switch, read in the claim itself: only a stored {"enabled": false} stops claims
// (max 0); a malformed value does not, matching the policy reader, which keeps the last
// valid value (seeded: enabled).
// Exported for bench:claim-floor.
export const CLAIM_SQL = `
  SELECT id, mission_id AS "missionId", position, kind, skill, params, attempt, max_attempts AS "maxAttempts",
         timeout_seconds AS "timeoutSeconds", lease_token AS "leaseToken", lease_expires_at AS "leaseExpiresAt",
         lease_seconds AS "leaseSeconds", trace_id AS "traceId", run_after AS "runAfter", more
  FROM opsloop_claim_steps($1::text[], $2::timestamptz,
    CASE WHEN EXISTS (SELECT 1 FROM ops_policy WHERE key = 'system_enabled' AND value -> 'enabled' = 'false'::jsonb) THEN 0 ELSE $3::int END,
    $4::text, coalesce($5::int, ${POLICY_LEASE_SECONDS_SQL}))`;

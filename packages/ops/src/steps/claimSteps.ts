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
 * CLAIM_SQL). The in-process worker uses it to claim again or wake a peer only when
 * there is something to take, instead of on speculation.
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
// Exported for the plan test.
export const CLAIM_SQL = `
  WITH lease AS (SELECT coalesce($5::int, ${POLICY_LEASE_SECONDS_SQL}) AS seconds),
  picked AS (
    -- The kill switch, checked in the claim itself: only a stored {"enabled": false}
    -- stops claims (picking 0 rows); a malformed value does not, matching the policy
    -- reader, which keeps the last valid value (seeded: enabled).
    -- One row beyond $3 is picked (and released at commit) only to tell whether more
    -- were left behind.
    SELECT id, n FROM opsloop_pick_steps($1::text[], $2::timestamptz,
      CASE WHEN EXISTS (SELECT 1 FROM ops_policy WHERE key = 'system_enabled' AND value -> 'enabled' = 'false'::jsonb) THEN 0 ELSE $3::int + 1 END)
      WITH ORDINALITY AS p(id, n)
  ), claimed AS (
    UPDATE ops_mission_steps s
    SET status = 'running', attempts = s.attempts + 1, lease_owner = $4::text, lease_token = gen_random_uuid(),
        lease_expires_at = $2::timestamptz + make_interval(secs => (SELECT seconds FROM lease)), started_at = coalesce(s.started_at, $2::timestamptz), updated_at = $2::timestamptz
    -- = ANY(ARRAY(...)) rather than a join: a primary-key lookup per picked id whatever
    -- the statistics say (a join planned from stale estimates hashes the whole table).
    WHERE s.id = ANY(ARRAY(SELECT id FROM picked WHERE n <= $3::int))
    RETURNING s.*
  ), runs AS (
    INSERT INTO ops_step_runs (step_id, mission_id, attempt, kind, worker_id, lease_token, started_at, outcome)
    SELECT id, mission_id, attempts, kind, $4::text, lease_token, $2::timestamptz, 'running' FROM claimed
  ), started AS (
    UPDATE ops_missions m SET status = 'running', started_at = $2::timestamptz, updated_at = $2::timestamptz
    -- "IS TRUE" keeps the status index out of this plan: with stale statistics the
    -- planner thinks few missions are queued and ANDs in a scan of all of them.
    WHERE m.id = ANY(ARRAY(SELECT mission_id FROM claimed)) AND (m.status = 'queued') IS TRUE
    RETURNING m.id, m.proposal_id, m.skill, m.trace_id
  ), events AS (
    INSERT INTO ops_events (kind, source, skill, proposal_id, mission_id, step_id, trace_id, payload, created_at)
    SELECT 'mission:started', 'workers', skill, proposal_id, id, NULL, trace_id, '{}'::jsonb, $2::timestamptz FROM started
    UNION ALL
    SELECT 'step:started', 'workers', skill, NULL, mission_id, id, trace_id,
           jsonb_build_object('kind', kind, 'attempt', attempts, 'workerId', $4::text), $2::timestamptz
    FROM claimed
  )
  -- "more": picked rows that were not claimed. Usually the one row beyond $3; but the pick
  -- is VOLATILE and reads with a newer snapshot than this statement's, so it can also lock
  -- a step committed after this statement began, which the UPDATE above cannot see and
  -- leaves queued. Its NOTIFY may have gone to a peer that skipped it (our lock), so the
  -- caller must claim again rather than wait for the poll.
  SELECT c.id, c.mission_id AS "missionId", c.position, c.kind, c.skill, c.params, c.attempts AS attempt, c.max_attempts AS "maxAttempts",
         c.timeout_seconds AS "timeoutSeconds", c.lease_token AS "leaseToken", c.lease_expires_at AS "leaseExpiresAt",
         (SELECT seconds FROM lease) AS "leaseSeconds", c.trace_id AS "traceId", c.run_after AS "runAfter", m.more
  FROM (SELECT (SELECT count(*) FROM picked) > (SELECT count(*) FROM claimed) AS more) m
  LEFT JOIN claimed c ON true
  ORDER BY c.run_after, c.id`;

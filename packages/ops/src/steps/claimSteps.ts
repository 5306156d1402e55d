import type { OpsDeps } from '../types.ts';

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
  traceId: string;
  /** When the step became claimable. */
  runAfter: Date;
}

export interface ClaimOptions {
  workerId: string;
  kinds: string[];
  /** Most steps to lease in this call. */
  max: number;
  leaseSeconds: number;
}

/**
 * Leases up to `max` claimable steps to one worker, atomically and safely across
 * processes: FOR UPDATE SKIP LOCKED means concurrent claimers never wait on or receive
 * the same row. One statement also opens the attempt's run row, marks missions running
 * and writes the events. Claims nothing while the kill switch is off.
 */
export async function claimSteps(deps: Pick<OpsDeps, 'prisma' | 'clock' | 'observer'>, o: ClaimOptions): Promise<ClaimedStep[]> {
  if (o.kinds.length === 0 || o.max <= 0) return [];
  const now = deps.clock.now();
  const leaseExpiresAt = new Date(now.getTime() + o.leaseSeconds * 1000);
  const claimed = await deps.prisma.$queryRaw<ClaimedStep[]>`
    WITH picked AS (
      SELECT id FROM ops_mission_steps
      WHERE status = 'queued' AND kind = ANY(${o.kinds}::text[]) AND run_after <= ${now}::timestamptz
        -- The kill switch, checked in the claim itself (this is the hot path). Only a
        -- stored {"enabled": false} stops claims; a malformed value does not, matching the
        -- policy reader, which keeps the last valid value (seeded: enabled).
        AND NOT EXISTS (SELECT 1 FROM ops_policy WHERE key = 'system_enabled' AND value -> 'enabled' = 'false'::jsonb)
      ORDER BY run_after, id
      LIMIT ${o.max}
      FOR UPDATE SKIP LOCKED
    ), claimed AS (
      UPDATE ops_mission_steps s
      SET status = 'running', attempts = s.attempts + 1, lease_owner = ${o.workerId}, lease_token = gen_random_uuid(),
          lease_expires_at = ${leaseExpiresAt}::timestamptz, started_at = coalesce(s.started_at, ${now}::timestamptz), updated_at = ${now}::timestamptz
      FROM picked WHERE s.id = picked.id
      RETURNING s.*
    ), runs AS (
      INSERT INTO ops_step_runs (step_id, mission_id, attempt, kind, worker_id, lease_token, started_at, outcome)
      SELECT id, mission_id, attempts, kind, ${o.workerId}, lease_token, ${now}::timestamptz, 'running' FROM claimed
    ), started AS (
      UPDATE ops_missions m SET status = 'running', started_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
      WHERE m.id IN (SELECT mission_id FROM claimed) AND m.status = 'queued'
      RETURNING m.id, m.proposal_id, m.skill, m.trace_id
    ), events AS (
      INSERT INTO ops_events (kind, source, skill, proposal_id, mission_id, step_id, trace_id, payload, created_at)
      SELECT 'mission:started', 'workers', skill, proposal_id, id, NULL, trace_id, '{}'::jsonb, ${now}::timestamptz FROM started
      UNION ALL
      SELECT 'step:started', 'workers', skill, NULL, mission_id, id, trace_id,
             jsonb_build_object('kind', kind, 'attempt', attempts, 'workerId', ${o.workerId}::text), ${now}::timestamptz
      FROM claimed
    )
    SELECT id, mission_id AS "missionId", position, kind, skill, params, attempts AS attempt, max_attempts AS "maxAttempts",
           timeout_seconds AS "timeoutSeconds", lease_token AS "leaseToken", lease_expires_at AS "leaseExpiresAt", trace_id AS "traceId", run_after AS "runAfter"
    FROM claimed ORDER BY run_after, id`;
  if (claimed.length) deps.observer?.stepsClaimed(claimed, now);
  return claimed;
}

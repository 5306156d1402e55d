import { randomUUID } from 'node:crypto';
import type { Prisma } from '@opsloop/db';
import { eventRowsJson, type NewEvent } from '../events.ts';
import type { PolicyValue } from '../policy/schemas.ts';
import type { ProposalView } from '../queries/proposals.ts';
import type { GateDecision } from './gates.ts';
import type { ValidatedStep } from './validateProposal.ts';

export interface DecisionTarget {
  id: string;
  title: string;
  skill: string;
  traceId: string;
  steps: ValidatedStep[];
}

/**
 * Applies a decision to a pending proposal in one statement: its new status and reason;
 * on approval its mission and steps (the first claimable now, the rest waiting for the
 * one before) and a NOTIFY that wakes idle workers at commit; and the events, given in
 * `extraEvents` plus the decision's own. Guarded on `status = 'pending'`: when someone
 * else decided first it changes nothing, writes no event and returns undefined.
 */
export async function recordDecision(
  tx: Prisma.TransactionClient,
  stepDefaults: PolicyValue<'step_defaults'>,
  p: DecisionTarget,
  decision: GateDecision,
  now: Date,
  extraEvents: NewEvent[] = [],
): Promise<ProposalView | undefined> {
  // Chosen here so the proposal can point at its mission within the same statement
  // (the foreign key is checked at the end of the statement).
  const missionId = decision.status === 'approved' ? randomUUID() : null;
  const base = { source: 'proposals', skill: p.skill, proposalId: p.id, traceId: p.traceId };
  const events: NewEvent[] = [...extraEvents, { ...base, kind: `proposal:${decision.status}`, missionId, payload: { reason: decision.reason } }];
  if (decision.status === 'rejected' && decision.quota) {
    events.push({ ...base, kind: 'quota:exceeded', tags: ['warning'], payload: { ...decision.quota, reason: decision.reason } });
  }
  if (missionId) {
    events.push({ ...base, source: 'missions', kind: 'mission:created', missionId, payload: { title: p.title, steps: p.steps.map((s) => s.kind) } });
  }
  const steps = missionId
    ? p.steps.map((step, position) => ({
        position,
        kind: step.kind,
        skill: step.skill,
        params: step.params,
        status: position === 0 ? 'queued' : 'waiting',
        max_attempts: step.maxAttempts ?? stepDefaults.max_attempts,
        timeout_seconds: step.timeoutSeconds ?? 300,
      }))
    : [];
  const status = decision.status;
  const [row] = await tx.$queryRaw<(ProposalView & { notified?: unknown })[]>`
    WITH decided AS (
      UPDATE ops_proposals
      SET status = ${status}, reason = ${decision.reason}, mission_id = ${missionId}::uuid, updated_at = ${now}::timestamptz,
          decided_at = CASE WHEN ${status} = 'pending' THEN NULL ELSE ${now}::timestamptz END
      WHERE id = ${p.id}::uuid AND status = 'pending'
      RETURNING *
    ), mission AS (
      INSERT INTO ops_missions (id, proposal_id, title, skill, status, trace_id, created_at, updated_at)
      SELECT ${missionId}::uuid, id, title, skill, 'queued', trace_id, ${now}::timestamptz, ${now}::timestamptz
      FROM decided WHERE ${missionId}::uuid IS NOT NULL
      RETURNING id, trace_id
    ), steps AS (
      INSERT INTO ops_mission_steps (mission_id, position, kind, skill, params, status, max_attempts, timeout_seconds, run_after, trace_id, created_at, updated_at)
      SELECT mission.id, s.position, s.kind, s.skill, s.params, s.status, s.max_attempts, s.timeout_seconds,
             ${now}::timestamptz, mission.trace_id, ${now}::timestamptz, ${now}::timestamptz
      FROM mission, jsonb_to_recordset(${JSON.stringify(steps)}::jsonb)
        AS s(position int, kind text, skill text, params jsonb, status text, max_attempts int, timeout_seconds int)
    ), events AS (
      INSERT INTO ops_events (kind, source, skill, proposal_id, mission_id, step_id, trace_id, payload, tags, created_at)
      SELECT e.kind, e.source, e.skill, e.proposal_id, e.mission_id, e.step_id, e.trace_id, e.payload, e.tags, e.created_at
      FROM decided, jsonb_to_recordset(${eventRowsJson(events, now)}::jsonb)
        AS e(kind text, source text, skill text, proposal_id uuid, mission_id uuid, step_id uuid, trace_id uuid, payload jsonb, tags text[], created_at timestamptz)
    )
    SELECT id, dedupe_key AS "dedupeKey", source, proposed_by AS "proposedBy", skill, title, steps, status, reason,
           mission_id AS "missionId", trace_id AS "traceId", metadata, decided_at AS "decidedAt",
           created_at AS "createdAt", updated_at AS "updatedAt",
           (SELECT pg_notify('opsloop_steps', ${p.steps[0]?.kind ?? ''})::text FROM mission) AS notified
    FROM decided`;
  if (!row) return undefined;
  delete row.notified;
  return row;
}

import { randomUUID } from 'node:crypto';
import { prismaRunner, type Prisma, type SqlQuery, type SqlRunner } from '@opsloop/db';
import { eventRowsJson, type NewEvent } from '../events.ts';
import type { PolicyValue } from '../policy/schemas.ts';
import type { ProposalView } from '../queries/proposals.ts';
import type { GateDecision } from './gates.ts';
import type { ValidatedProposal, ValidatedStep } from './validateProposal.ts';

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
  const q = params();
  const decided = `
    UPDATE ops_proposals
    SET status = ${q(decision.status)}::text, reason = ${q(decision.reason)}::text, mission_id = ${q.missionId}::uuid,
        updated_at = ${q.now}::timestamptz, decided_at = CASE WHEN ${q(decision.status)}::text = 'pending' THEN NULL ELSE ${q.now}::timestamptz END
    WHERE id = ${q(p.id)}::uuid AND status = 'pending'
    RETURNING *`;
  return decisionStatement(prismaRunner(tx), q, decided, stepDefaults, p, decision, now, extraEvents);
}

/**
 * A new proposal inserted already decided, with its mission, steps, events and NOTIFY:
 * the whole intake in ONE statement (the hot path of POST /proposal). `ON CONFLICT
 * (dedupe_key) DO NOTHING` waits for a concurrent insert of the same key to commit and
 * then skips, writing nothing else: undefined means the key already existed.
 */
export async function insertDecidedProposal(
  sql: SqlRunner,
  stepDefaults: PolicyValue<'step_defaults'>,
  p: ValidatedProposal,
  decision: GateDecision,
  now: Date,
): Promise<ProposalView | undefined> {
  const q = params();
  const target: DecisionTarget = { id: randomUUID(), traceId: randomUUID(), title: p.title, skill: p.skill, steps: p.steps };
  const decided = `
    INSERT INTO ops_proposals (id, trace_id, dedupe_key, source, proposed_by, skill, title, steps, status, reason, mission_id, metadata, decided_at, created_at, updated_at)
    VALUES (${q(target.id)}::uuid, ${q(target.traceId)}::uuid, ${q(p.dedupeKey ?? null)}::text, ${q(p.source)}::text, ${q(p.proposedBy ?? null)}::text,
            ${q(p.skill)}::text, ${q(p.title)}::text, ${q(JSON.stringify(p.steps))}::jsonb, ${q(decision.status)}::text, ${q(decision.reason)}::text,
            ${q.missionId}::uuid, ${q(JSON.stringify(p.metadata))}::jsonb,
            CASE WHEN ${q(decision.status)}::text = 'pending' THEN NULL ELSE ${q.now}::timestamptz END, ${q.now}::timestamptz, ${q.now}::timestamptz)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING *`;
  const created: NewEvent = {
    kind: 'proposal:created',
    source: 'proposals',
    skill: p.skill,
    proposalId: target.id,
    traceId: target.traceId,
    payload: { title: p.title, source: p.source, proposedBy: p.proposedBy, steps: p.steps.map((s) => s.kind), dedupeKey: p.dedupeKey },
  };
  return decisionStatement(sql, q, decided, stepDefaults, target, decision, now, [created], 'opsloop_insert_proposal');
}

/** A ProposalView as raw SQL columns (the same shape getProposal selects). */
const PROPOSAL_VIEW_COLUMNS = `id, dedupe_key AS "dedupeKey", source, proposed_by AS "proposedBy", skill, title, steps, status, reason,
  mission_id AS "missionId", trace_id AS "traceId", metadata, decided_at AS "decidedAt", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** The proposal holding a dedupe key, read where the caller's statements run. */
export async function findProposalByDedupeKey(sql: SqlRunner, dedupeKey: string): Promise<ProposalView | undefined> {
  const [row] = await sql.query<ProposalView>({
    name: 'opsloop_proposal_by_dedupe_key',
    text: `SELECT ${PROPOSAL_VIEW_COLUMNS} FROM ops_proposals WHERE dedupe_key = $1::text`,
    values: [dedupeKey],
  });
  return row;
}

/**
 * Numbered parameters for one statement. `missionId` and `now` are reserved as $1 and $2
 * because both the `decided` part and the shared tail use them.
 */
function params() {
  const values: unknown[] = [undefined, undefined];
  const q = (value: unknown) => `$${values.push(value)}`;
  return Object.assign(q, { values, missionId: '$1', now: '$2' });
}

async function decisionStatement(
  sql: SqlRunner,
  q: ReturnType<typeof params>,
  decided: string,
  stepDefaults: PolicyValue<'step_defaults'>,
  p: DecisionTarget,
  decision: GateDecision,
  now: Date,
  extraEvents: NewEvent[],
  name?: string,
): Promise<ProposalView | undefined> {
  // Chosen here so the proposal can point at its mission within the same statement
  // (the foreign key is checked at the end of the statement).
  const missionId = decision.status === 'approved' ? randomUUID() : null;
  q.values[0] = missionId;
  q.values[1] = now;
  const base = { source: 'proposals', skill: p.skill, proposalId: p.id, traceId: p.traceId };
  const events: NewEvent[] = [...extraEvents, { ...base, kind: `proposal:${decision.status}`, missionId, payload: { reason: decision.reason } }];
  if (decision.status === 'rejected' && decision.quota) {
    events.push({ ...base, kind: 'quota:exceeded', tags: ['warning'], payload: { ...decision.quota, reason: decision.reason } });
  }
  if (missionId) {
    events.push({ ...base, source: 'missions', kind: 'mission:created', missionId, payload: { title: p.title, steps: p.steps.map((s) => s.kind) } });
  }
  // A mission's steps are all written here, with its created_at: the daily summary counts
  // the day's steps through the day's missions on that account.
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
  const text = `
    WITH decided AS (${decided}
    ), mission AS (
      INSERT INTO ops_missions (id, proposal_id, title, skill, status, trace_id, created_at, updated_at)
      SELECT $1::uuid, id, title, skill, 'queued', trace_id, $2::timestamptz, $2::timestamptz
      FROM decided WHERE $1::uuid IS NOT NULL
      RETURNING id, trace_id
    ), steps AS (
      INSERT INTO ops_mission_steps (mission_id, position, kind, skill, params, status, max_attempts, timeout_seconds, run_after, trace_id, created_at, updated_at)
      SELECT mission.id, s.position, s.kind, s.skill, s.params, s.status, s.max_attempts, s.timeout_seconds,
             $2::timestamptz, mission.trace_id, $2::timestamptz, $2::timestamptz
      FROM mission, jsonb_to_recordset(${q(JSON.stringify(steps))}::jsonb)
        AS s(position int, kind text, skill text, params jsonb, status text, max_attempts int, timeout_seconds int)
    ), events AS (
      INSERT INTO ops_events (kind, source, skill, proposal_id, mission_id, step_id, trace_id, payload, tags, created_at)
      SELECT e.kind, e.source, e.skill, e.proposal_id, e.mission_id, e.step_id, e.trace_id, e.payload, e.tags, e.created_at
      FROM decided, jsonb_to_recordset(${q(eventRowsJson(events, now))}::jsonb)
        AS e(kind text, source text, skill text, proposal_id uuid, mission_id uuid, step_id uuid, trace_id uuid, payload jsonb, tags text[], created_at timestamptz)
    )
    SELECT ${PROPOSAL_VIEW_COLUMNS},
           (SELECT pg_notify('opsloop_steps', ${q(p.steps[0]?.kind ?? '')}::text)::text FROM mission) AS notified
    FROM decided`;
  const query: SqlQuery = { text, values: q.values, ...(name ? { name } : {}) };
  const [row] = await sql.query<ProposalView & { notified?: unknown }>(query);
  if (!row) return undefined;
  delete row.notified;
  return row;
}

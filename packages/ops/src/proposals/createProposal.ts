import { inTransaction, withTransientRetry, type Prisma } from '@opsloop/db';
import type { OpsDeps } from '../types.ts';
import { writeEvents, type NewEvent } from '../events.ts';
import { validateProposal, type ValidatedProposal } from './validateProposal.ts';
import { evaluateCapGate, evaluatePolicyGates, readDecisionPolicy, type DecisionPolicy, type GateDecision } from './gates.ts';
import { ConflictError } from '@opsloop/core';
import { createMission } from './createMission.ts';
import { getProposal, type ProposalView } from '../queries/proposals.ts';

export interface CreateProposalResult {
  proposal: ProposalView;
  /** false when the dedupe key matched an existing proposal (nothing was written). */
  created: boolean;
}

export type ProposalDeps = Pick<OpsDeps, 'prisma' | 'clock' | 'catalog' | 'policy'> & { timeZone: string };

/**
 * THE entry point for proposals, whoever proposes (HTTP, trigger, reaction, scheduler,
 * CLI). In one transaction: dedupe, skill gates, kill switch, auto-approval, cap gates,
 * mission creation and every event. Throws ValidationError (nothing written) for bad input.
 */
export async function createProposal(deps: ProposalDeps, input: unknown, tx?: Prisma.TransactionClient): Promise<CreateProposalResult> {
  const proposal = validateProposal(deps.catalog, input);
  const run = (t: Prisma.TransactionClient) => insertAndDecide(deps, proposal, t);
  return tx ? run(tx) : withTransientRetry(() => inTransaction(deps.prisma, run));
}

async function insertAndDecide(deps: ProposalDeps, p: ValidatedProposal, tx: Prisma.TransactionClient): Promise<CreateProposalResult> {
  const now = deps.clock.now();
  // ON CONFLICT DO NOTHING waits for a concurrent insert of the same key to commit and
  // then skips: 50 identical requests make one row, and 49 read it back below.
  const inserted = await tx.$queryRaw<{ id: string; trace_id: string }[]>`
    INSERT INTO ops_proposals (dedupe_key, source, proposed_by, skill, title, steps, status, metadata, created_at, updated_at)
    VALUES (${p.dedupeKey ?? null}, ${p.source}, ${p.proposedBy ?? null}, ${p.skill}, ${p.title},
            ${JSON.stringify(p.steps)}::jsonb, 'pending', ${JSON.stringify(p.metadata)}::jsonb, ${now}::timestamptz, ${now}::timestamptz)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id, trace_id`;
  const row = inserted[0];
  if (!row) {
    const existing = await tx.opsProposal.findUniqueOrThrow({ where: { dedupeKey: p.dedupeKey! }, select: { id: true } });
    return { proposal: (await getProposal(tx, existing.id))!, created: false };
  }

  const base = { source: 'proposals', skill: p.skill, proposalId: row.id, traceId: row.trace_id, createdAt: now };
  const events: NewEvent[] = [
    { ...base, kind: 'proposal:created', payload: { title: p.title, source: p.source, proposedBy: p.proposedBy, steps: p.steps.map((s) => s.kind), dedupeKey: p.dedupeKey } },
  ];
  const policy = (await readDecisionPolicy(tx, deps.policy, p)) as DecisionPolicy;
  let decision = evaluatePolicyGates(policy, p, 'auto');
  if (decision.status === 'approved') {
    decision = (await evaluateCapGate(tx, policy.daily_quotas, p.steps, now, deps.timeZone)) ?? decision;
  }
  events.push(...(await applyDecision(tx, policy, { id: row.id, traceId: row.trace_id, ...p }, decision, now)));
  await writeEvents(tx, events);
  return { proposal: (await getProposal(tx, row.id))!, created: true };
}

/**
 * Moves a pending proposal to the decision's status (guarded: only from pending), and
 * on approval creates its mission. Returns the events to write; none if the guard did
 * not match (someone else decided first).
 */
export async function applyDecision(
  tx: Prisma.TransactionClient,
  policy: Pick<DecisionPolicy, 'step_defaults'>,
  p: { id: string; traceId: string; title: string; skill: string; steps: ValidatedProposal['steps'] },
  decision: GateDecision,
  now: Date,
): Promise<NewEvent[]> {
  const base = { source: 'proposals', skill: p.skill, proposalId: p.id, traceId: p.traceId, createdAt: now };
  if (decision.status === 'pending') {
    await tx.opsProposal.updateMany({ where: { id: p.id, status: 'pending' }, data: { reason: decision.reason, updatedAt: now } });
    return [{ ...base, kind: 'proposal:pending', payload: { reason: decision.reason } }];
  }
  if (decision.status === 'rejected') {
    const moved = await tx.opsProposal.updateMany({
      where: { id: p.id, status: 'pending' },
      data: { status: 'rejected', reason: decision.reason, decidedAt: now, updatedAt: now },
    });
    if (moved.count === 0) return [];
    const events: NewEvent[] = [{ ...base, kind: 'proposal:rejected', payload: { reason: decision.reason } }];
    if (decision.quota) events.push({ ...base, kind: 'quota:exceeded', tags: ['warning'], payload: { ...decision.quota, reason: decision.reason } });
    return events;
  }
  // Callers hold the proposal (a fresh insert, or locked FOR UPDATE), so it is still
  // pending here; the guard below is the backstop, and its failure rolls back the mission.
  const mission = await createMission(tx, policy.step_defaults, p, now);
  const moved = await tx.opsProposal.updateMany({
    where: { id: p.id, status: 'pending' },
    data: { status: 'approved', reason: decision.reason, decidedAt: now, updatedAt: now, missionId: mission.missionId },
  });
  if (moved.count === 0) throw new ConflictError('proposal was decided concurrently');
  return [{ ...base, kind: 'proposal:approved', missionId: mission.missionId, payload: { reason: decision.reason } }, ...mission.events];
}

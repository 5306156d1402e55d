import { inTransaction, withTransientRetry, type Prisma } from '@opsloop/db';
import type { OpsDeps } from '../types.ts';
import type { NewEvent } from '../events.ts';
import { validateProposal, type ValidatedProposal } from './validateProposal.ts';
import { decisionPolicyKeys, evaluateCapGate, evaluatePolicyGates, type DecisionPolicy, type GateDecision } from './gates.ts';
import { recordDecision } from './recordDecision.ts';
import { getProposal, type ProposalView } from '../queries/proposals.ts';

export interface CreateProposalResult {
  proposal: ProposalView;
  /** false when the dedupe key matched an existing proposal (nothing was written). */
  created: boolean;
}

export type ProposalDeps = Pick<OpsDeps, 'prisma' | 'clock' | 'catalog' | 'policy' | 'observer'> & { timeZone: string };

/**
 * THE entry point for proposals, whoever proposes (HTTP, trigger, reaction, scheduler,
 * CLI). In one transaction: dedupe, skill gates, kill switch, auto-approval, cap gates,
 * mission creation and every event. Throws ValidationError (nothing written) for bad input.
 */
export async function createProposal(deps: ProposalDeps, input: unknown, tx?: Prisma.TransactionClient): Promise<CreateProposalResult> {
  const proposal = validateProposal(deps.catalog, input);
  const run = (t: Prisma.TransactionClient) => insertAndDecide(deps, proposal, t);
  const result = await (tx ? run(tx) : withTransientRetry(() => inTransaction(deps.prisma, run)));
  if (result.created) deps.observer?.proposalCreated(proposal.source, result.proposal.status);
  return result;
}

async function insertAndDecide(deps: ProposalDeps, p: ValidatedProposal, tx: Prisma.TransactionClient): Promise<CreateProposalResult> {
  const now = deps.clock.now();
  const keys = decisionPolicyKeys(p);
  // ON CONFLICT DO NOTHING waits for a concurrent insert of the same key to commit and
  // then skips: 50 identical requests make one row, and 49 read it back below. The
  // policy rows the decision needs come back with the insert (one round trip).
  const [row] = await tx.$queryRaw<{ id: string; trace_id: string; policy: { key: string; value: unknown }[] }[]>`
    WITH inserted AS (
      INSERT INTO ops_proposals (dedupe_key, source, proposed_by, skill, title, steps, status, metadata, created_at, updated_at)
      VALUES (${p.dedupeKey ?? null}, ${p.source}, ${p.proposedBy ?? null}, ${p.skill}, ${p.title},
              ${JSON.stringify(p.steps)}::jsonb, 'pending', ${JSON.stringify(p.metadata)}::jsonb, ${now}::timestamptz, ${now}::timestamptz)
      ON CONFLICT (dedupe_key) DO NOTHING
      RETURNING id, trace_id
    )
    SELECT id, trace_id,
           (SELECT coalesce(jsonb_agg(jsonb_build_object('key', key, 'value', value)), '[]') FROM ops_policy WHERE key = ANY(${keys}::text[])) AS policy
    FROM inserted`;
  if (!row) {
    const existing = await tx.opsProposal.findUniqueOrThrow({ where: { dedupeKey: p.dedupeKey! }, select: { id: true } });
    return { proposal: (await getProposal(tx, existing.id))!, created: false };
  }

  const policy = deps.policy.parse(row.policy, keys) as DecisionPolicy;
  let decision: GateDecision = evaluatePolicyGates(policy, p, 'auto');
  if (decision.status === 'approved') {
    decision = (await evaluateCapGate(tx, policy.daily_quotas, p.steps, now, deps.timeZone)) ?? decision;
  }
  const created: NewEvent = {
    kind: 'proposal:created',
    source: 'proposals',
    skill: p.skill,
    proposalId: row.id,
    traceId: row.trace_id,
    payload: { title: p.title, source: p.source, proposedBy: p.proposedBy, steps: p.steps.map((s) => s.kind), dedupeKey: p.dedupeKey },
  };
  const proposal = await recordDecision(tx, policy.step_defaults, { id: row.id, traceId: row.trace_id, ...p }, decision, now, [created]);
  return { proposal: proposal!, created: true };
}

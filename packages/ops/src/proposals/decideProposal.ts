import { ConflictError, NotFoundError } from '@opsloop/core';
import { inTransaction, withTransientRetry, type Prisma } from '@opsloop/db';
import type { ProposalView } from '../queries/proposals.ts';
import type { ProposalDeps } from './createProposal.ts';
import { recordDecision } from './recordDecision.ts';
import { evaluateCapGate, evaluatePolicyGates, readDecisionPolicy, type GateDecision } from './gates.ts';
import { POLICY_FALLBACKS } from '../policy/schemas.ts';
import type { ValidatedStep } from './validateProposal.ts';

async function lockPending(tx: Prisma.TransactionClient, id: string) {
  const [row] = await tx.$queryRaw<{ id: string; status: string; title: string; skill: string; trace_id: string; steps: ValidatedStep[] }[]>`
    SELECT id, status, title, skill, trace_id, steps FROM ops_proposals WHERE id = ${id}::uuid FOR UPDATE`;
  if (!row) throw new NotFoundError('proposal');
  if (row.status !== 'pending') throw new ConflictError(`proposal is ${row.status}, not pending`, { status: row.status });
  return { id: row.id, title: row.title, skill: row.skill, traceId: row.trace_id, steps: row.steps };
}

/**
 * A person approves a pending proposal. Skill gates and cap gates still apply (a quota
 * or a disabled skill rejects it, with the reason); the kill switch answers 409 and
 * leaves it pending.
 */
export function approveProposal(deps: ProposalDeps, id: string, by?: string): Promise<ProposalView> {
  return withTransientRetry(() =>
    inTransaction(deps.prisma, async (tx) => {
      const now = deps.clock.now();
      const p = await lockPending(tx, id);
      const policy = await readDecisionPolicy(tx, deps.policy, p);
      let decision: GateDecision = evaluatePolicyGates(policy, p, 'manual');
      if (decision.status === 'pending') throw new ConflictError(decision.reason);
      if (decision.status === 'approved') {
        decision = (await evaluateCapGate(tx, policy.daily_quotas, p.steps, now, deps.timeZone)) ?? { ...decision, reason: by ? `approved by ${by}` : decision.reason };
      }
      return (await recordDecision(tx, policy.step_defaults, p, decision, now))!;
    }),
  );
}

export function rejectProposal(deps: ProposalDeps, id: string, reason: string): Promise<ProposalView> {
  return inTransaction(deps.prisma, async (tx) => {
    const p = await lockPending(tx, id);
    return (await recordDecision(tx, POLICY_FALLBACKS.step_defaults, p, { status: 'rejected', reason }, deps.clock.now()))!;
  });
}

/** Pending proposals older than `proposals.pending_expiry_days` become expired. */
export async function expireStaleProposals(deps: Pick<ProposalDeps, 'prisma' | 'clock' | 'policy'>): Promise<{ expired: number }> {
  const now = deps.clock.now();
  const { proposals } = await deps.policy.read(deps.prisma, ['proposals']);
  const cutoff = new Date(now.getTime() - proposals.pending_expiry_days * 86_400_000);
  const rows = await deps.prisma.$queryRaw<{ id: string }[]>`
    WITH expired AS (
      UPDATE ops_proposals SET status = 'expired', reason = 'pending longer than the expiry policy', decided_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
      WHERE status = 'pending' AND created_at < ${cutoff}::timestamptz
      RETURNING id, skill, trace_id
    ), events AS (
      INSERT INTO ops_events (kind, source, skill, proposal_id, trace_id, payload, created_at)
      SELECT 'proposal:expired', 'proposals', skill, id, trace_id, '{}'::jsonb, ${now}::timestamptz FROM expired
    )
    SELECT id FROM expired`;
  return { expired: rows.length };
}

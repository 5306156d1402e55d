import { inPgTransaction, pgRunner, prismaRunner, withTransientRetry, type Prisma, type SqlRunner } from '@opsloop/db';
import type { OpsDeps } from '../types.ts';
import { namesInProposal, validateProposal, type ValidatedProposal } from './validateProposal.ts';
import { decisionPolicyKeys, evaluateCapGate, evaluatePolicyGates, quotaRequests, type DecisionPolicy, type GateDecision } from './gates.ts';
import { findProposalByDedupeKey, insertDecidedProposal } from './recordDecision.ts';
import type { ProposalView } from '../queries/proposals.ts';
import { POLICY_ROW_COLUMNS, type PolicyRow } from '../policy/readPolicy.ts';

const READ_POLICY_SQL = `SELECT ${POLICY_ROW_COLUMNS} FROM ops_policy WHERE key = ANY($1::text[])`;

export interface CreateProposalResult {
  proposal: ProposalView;
  /** false when the dedupe key matched an existing proposal (nothing was written). */
  created: boolean;
}

export type ProposalDeps = Pick<OpsDeps, 'prisma' | 'pool' | 'clock' | 'catalog' | 'policy' | 'observer'> & { timeZone: string };

/**
 * THE entry point for proposals, whoever proposes (HTTP, trigger, reaction, scheduler,
 * CLI): dedupe, skill gates, kill switch, auto-approval, cap gates, mission creation and
 * every event, atomically. Throws ValidationError (nothing written) for bad input.
 *
 * Policy is read fresh on every call, then the proposal is written already decided, with
 * its mission, steps, events and NOTIFY, in ONE statement: two round trips, no
 * interactive transaction. Only a proposal that meets a cap gate needs a transaction:
 * the per-kind lock and the count must precede the insert and hold until it commits.
 * Inside the caller's `tx` the same statements run there.
 */
export async function createProposal(deps: ProposalDeps, input: unknown, tx?: Prisma.TransactionClient): Promise<CreateProposalResult> {
  const proposal = validateProposal(await deps.catalog.resolve(namesInProposal(input)), input);
  const result = await (tx
    ? decide(deps, proposal, prismaRunner(tx), (fn) => fn(prismaRunner(tx)))
    : withTransientRetry(() => decide(deps, proposal, pgRunner(deps.pool), (fn) => inPgTransaction(deps.pool, fn))));
  if (result.created) deps.observer?.proposalCreated(proposal.source, result.proposal.status);
  return result;
}

async function decide(
  deps: ProposalDeps,
  p: ValidatedProposal,
  sql: SqlRunner,
  atomically: <T>(fn: (sql: SqlRunner) => Promise<T>) => Promise<T>,
): Promise<CreateProposalResult> {
  const now = deps.clock.now();
  const keys = decisionPolicyKeys(p);
  const rows = await sql.query<PolicyRow>({
    name: 'opsloop_read_policy',
    text: READ_POLICY_SQL,
    values: [[...keys]],
  });
  const policy = deps.policy.parse(rows, keys) as DecisionPolicy;
  const decision: GateDecision = evaluatePolicyGates(policy, p, 'auto');

  const written =
    decision.status === 'approved' && quotaRequests(policy.daily_quotas, p.steps).size > 0
      ? await atomically(async (t) => {
          const capped = await evaluateCapGate(t, policy.daily_quotas, p.steps, now, deps.timeZone);
          return insertDecidedProposal(t, policy.step_defaults, p, capped ?? decision, now);
        })
      : await insertDecidedProposal(sql, policy.step_defaults, p, decision, now);
  if (written) return { proposal: written, created: true };

  // The dedupe key matched (ON CONFLICT waited for its insert to commit): nothing was
  // written; answer with the proposal that has it.
  const existing = await findProposalByDedupeKey(sql, p.dedupeKey!);
  if (!existing) throw new Error(`dedupe key ${p.dedupeKey} conflicted but no proposal holds it`);
  return { proposal: existing, created: false };
}

import { prismaRunner, type DbClient, type Prisma, type SqlRunner } from '@opsloop/db';
import type { PolicyReader } from '../policy/readPolicy.ts';
import { kindMatches, type PolicyValue } from '../policy/schemas.ts';
import type { SkillToggle } from '../policy/schemas.ts';
import type { ValidatedStep } from './validateProposal.ts';

export type GateDecision =
  | { status: 'approved'; reason: string }
  | { status: 'pending'; reason: string }
  | { status: 'rejected'; reason: string; quota?: { kind: string; limit: number; used: number; requested: number } };

export interface GateInput {
  skill: string;
  steps: Pick<ValidatedStep, 'kind' | 'skill'>[];
}

/**
 * Skill gates, then the kill switch, then auto-approval. Reads policy fresh inside the
 * caller's transaction. Does not apply cap gates: those count and lock, see capGate.
 */
/** Every policy key a decision on this proposal reads. */
export function decisionPolicyKeys(proposal: GateInput) {
  return ['system_enabled', 'auto_approve', 'daily_quotas', 'step_defaults', ...skillsOf(proposal)] as const;
}

/** Every policy value a proposal decision needs, read in one query. */
export async function readDecisionPolicy(tx: DbClient, policy: PolicyReader, proposal: GateInput): Promise<DecisionPolicy> {
  return (await policy.read(tx, decisionPolicyKeys(proposal))) as DecisionPolicy;
}
export type DecisionPolicy = { [K in 'system_enabled' | 'auto_approve' | 'daily_quotas' | 'step_defaults']: PolicyValue<K> } & Record<string, SkillToggle | undefined>;

function skillsOf(proposal: GateInput): string[] {
  return [...new Set([proposal.skill, ...proposal.steps.map((s) => s.skill)])];
}

export function evaluatePolicyGates(p: DecisionPolicy, proposal: GateInput, mode: 'auto' | 'manual'): GateDecision {
  const skills = skillsOf(proposal);
  for (const skill of skills) {
    if (p[skill]?.enabled !== true) return { status: 'rejected', reason: `skill ${skill} is disabled by policy (${skill}.enabled = false)` };
  }
  if (!p.system_enabled.enabled) return { status: 'pending', reason: 'system disabled by the kill switch (system_enabled.enabled = false)' };
  if (mode === 'manual') return { status: 'approved', reason: 'approved by a person' };

  const auto = p.auto_approve;
  if (!auto.enabled) return { status: 'pending', reason: 'auto-approval is off: waiting for a person' };
  const always = proposal.steps.find((s) => auto.never_step_kinds.some((pattern) => kindMatches(s.kind, pattern)));
  if (always) return { status: 'pending', reason: `step kind ${always.kind} always needs a person's approval` };
  const notAllowed = proposal.steps.find((s) => !auto.step_kinds.some((pattern) => kindMatches(s.kind, pattern)));
  if (notAllowed) return { status: 'pending', reason: `step kind ${notAllowed.kind} is not auto-approved: waiting for a person` };
  return { status: 'approved', reason: 'auto-approved by policy' };
}

/** How many steps of each quota'd kind a proposal asks for (empty: no cap gate applies). */
export function quotaRequests(quotas: DecisionPolicy['daily_quotas'], steps: Pick<ValidatedStep, 'kind'>[]): Map<string, number> {
  const requested = new Map<string, number>();
  for (const s of steps) if (quotas[s.kind] !== undefined) requested.set(s.kind, (requested.get(s.kind) ?? 0) + 1);
  return requested;
}

/**
 * Daily quotas per step kind, counted over steps already approved since midnight in
 * `timeZone`. Takes a transaction-scoped advisory lock per quota'd kind (in sorted
 * order, so two proposals never deadlock) before counting: concurrent proposals for
 * the same kind are decided one after the other, so a quota of 10 approves exactly 10.
 */
export async function evaluateCapGate(
  tx: Prisma.TransactionClient | SqlRunner,
  quotas: DecisionPolicy['daily_quotas'],
  steps: Pick<ValidatedStep, 'kind'>[],
  now: Date,
  timeZone: string,
): Promise<GateDecision | undefined> {
  const sql = '$queryRawUnsafe' in tx ? prismaRunner(tx) : tx;
  const requested = quotaRequests(quotas, steps);
  for (const kind of [...requested.keys()].sort()) {
    await sql.query({ name: 'opsloop_quota_lock', text: `SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))::text`, values: [`opsloop:quota:${kind}`] });
  }
  for (const [kind, count] of [...requested.entries()].sort()) {
    const limit = quotas[kind]!;
    const [row] = await sql.query<{ used: number }>({
      name: 'opsloop_quota_count',
      text: `SELECT count(*)::int AS used FROM ops_mission_steps
             WHERE kind = $1::text AND created_at >= (date_trunc('day', $2::timestamptz AT TIME ZONE $3::text) AT TIME ZONE $3::text)`,
      values: [kind, now, timeZone],
    });
    const used = row?.used ?? 0;
    if (used + count > limit) {
      return {
        status: 'rejected',
        reason: `daily quota for ${kind} exceeded (${used} of ${limit} used today, ${count} requested)`,
        quota: { kind, limit, used, requested: count },
      };
    }
  }
  return undefined;
}

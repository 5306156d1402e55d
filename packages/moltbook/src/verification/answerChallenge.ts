/**
 * Answers the verification challenge of a write of ours, once, within the deadline.
 *
 * 1. The challenge is stored (`moltbook_challenges`, keyed by its code) as soon as the
 *    write's answer arrives.
 * 2. Solved by rules; when the rules are not confident and an LLM is configured (and the
 *    daily token budget allows), the LLM is asked with a strict prompt that must return
 *    a number. Without one, the rules' answer is submitted: an unanswered challenge
 *    counts against the account just like a wrong one.
 * 3. The submission is claimed under the code's row (`submitted_at IS NULL`) before
 *    `POST /verify`, so no process ever sends a second answer for one code, even after a
 *    crash or a lost connection. Past the deadline (`moltbook_safety.verification_deadline_seconds`
 *    from the write's answer, or the challenge's own expiry if sooner) nothing is sent and
 *    the outcome is `not_answered`.
 * 4. The outcome (verified | wrong | expired | not_answered | unknown) goes to the row, an
 *    event, and the circuit breaker.
 */
import type { Clock, Logger } from '@opsloop/core';
import type { PrismaClient } from '@opsloop/db';
import { noteBudgetExceeded, recordUsage, withinBudget, writeEvents, type LlmClient, type PolicyReader } from '@opsloop/ops';
import type { MoltbookClient } from '../client.ts';
import { MoltbookApiError, MoltbookSuspendedError } from '../errors.ts';
import type { VerificationChallenge } from '../types.ts';
import type { MoltbookMetrics } from '../metrics.ts';
import { openBreaker, recordVerification } from '../safety/breaker.ts';
import { formatAnswer, solveChallenge } from './solveChallenge.ts';

export const LLM_PURPOSE = 'moltbook_verification';

export type ChallengeOutcome = 'verified' | 'wrong' | 'expired' | 'not_answered' | 'unknown';

export interface VerificationDeps {
  prisma: PrismaClient;
  clock: Clock;
  logger: Logger;
  policy: PolicyReader;
  client: MoltbookClient;
  accountId: string;
  /** The LLM fallback for challenges the rules are not sure of. (Default: none) */
  llm?: LlmClient;
  /** Counts each challenge's outcome. (Default: none) */
  metrics?: Pick<MoltbookMetrics, 'verification'>;
  /** Day boundary of the LLM budget (OPS_TIMEZONE). (Default: UTC) */
  timeZone?: string;
}

export interface ChallengeResult {
  code: string;
  outcome: ChallengeOutcome | 'handled_elsewhere';
  method: 'rules' | 'llm' | null;
  answer: string | null;
  latencyMs: number | null;
}

const LLM_SYSTEM =
  'You solve short arithmetic word problems about lobsters that were deliberately garbled: random capital letters, ' +
  'doubled letters, punctuation noise, words split by spaces, filler words. Read the numbers (mostly written as words) ' +
  'and the operation (total/adds/increases/gains: add; loses/decreases/slows/remaining: subtract; multiplies/times/product: ' +
  'multiply; divided: divide). Answer with the resulting number only, with two decimals, e.g. 44.00. No words.';

/** A reply that is one number and nothing else, or null. */
export function parseLlmNumber(text: string): number | null {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text.replace(/^["'`]+|["'`]+$/g, ''));
  return m ? Number(m[1]) : null;
}

async function askLlm(deps: VerificationDeps, text: string, deadline: Date): Promise<number | null> {
  if (!deps.llm) return null;
  const timeZone = deps.timeZone ?? 'UTC';
  const now = deps.clock.now();
  const budget = await withinBudget(deps, now, timeZone);
  if (!budget.within) {
    await noteBudgetExceeded(deps.prisma, { purpose: LLM_PURPOSE, status: budget }, now, timeZone);
    return null;
  }
  // The answer must still reach /verify in time: the LLM gets what is left, less a margin.
  const leftMs = deadline.getTime() - now.getTime() - 3000;
  if (leftMs <= 0) return null;
  try {
    const answer = await deps.llm.complete({ purpose: LLM_PURPOSE, system: LLM_SYSTEM, user: text, signal: AbortSignal.timeout(leftMs) });
    await recordUsage(deps.prisma, { purpose: LLM_PURPOSE, model: answer.model, usage: answer.usage }, deps.clock.now());
    return parseLlmNumber(answer.text);
  } catch (error) {
    deps.logger.warn({ err: error }, 'LLM could not solve the challenge; submitting the rules answer');
    return null;
  }
}

function classifyVerifyError(error: unknown): { outcome: ChallengeOutcome; detail: string } {
  if (error instanceof MoltbookApiError) {
    const text = `${error.serverMessage} ${error.hint ?? ''}`;
    if (error.status === 410 || /expired|timed? ?out|too late/i.test(text)) return { outcome: 'expired', detail: error.serverMessage };
    if (error.status >= 400 && error.status < 500 && !(error instanceof MoltbookSuspendedError)) return { outcome: 'wrong', detail: error.serverMessage };
    return { outcome: 'unknown', detail: error.serverMessage };
  }
  return { outcome: 'unknown', detail: error instanceof Error ? error.message : String(error) };
}

/**
 * Stores, solves and answers `challenge` (see the module comment). `receivedAt` is when
 * the write's answer arrived; the deadline runs from there.
 */
export async function answerChallenge(
  deps: VerificationDeps,
  input: { challenge: VerificationChallenge; entityType: 'post' | 'comment'; entityId: string | null; receivedAt: Date },
): Promise<ChallengeResult> {
  const { challenge, receivedAt } = input;
  const code = challenge.verification_code;
  const expiresAt = challenge.expires_at ? new Date(challenge.expires_at) : null;
  const stored = await deps.prisma.$executeRaw`
    INSERT INTO moltbook_challenges (code, account_id, entity_type, entity_id, challenge_text, received_at, expires_at)
    VALUES (${code}, ${deps.accountId}, ${input.entityType}, ${input.entityId}, ${challenge.challenge_text}, ${receivedAt}::timestamptz,
            ${expiresAt && Number.isFinite(expiresAt.getTime()) ? expiresAt : null}::timestamptz)
    ON CONFLICT (code) DO NOTHING`;
  if (!stored) return { code, outcome: 'handled_elsewhere', method: null, answer: null, latencyMs: null };

  const { moltbook_safety: safety } = await deps.policy.read(deps.prisma, ['moltbook_safety']);
  let deadline = new Date(receivedAt.getTime() + safety.verification_deadline_seconds * 1000);
  if (expiresAt && Number.isFinite(expiresAt.getTime()) && expiresAt < deadline) deadline = expiresAt;

  const rules = solveChallenge(challenge.challenge_text);
  let method: 'rules' | 'llm' = 'rules';
  let value = rules.value;
  if (!rules.confident) {
    const fromLlm = await askLlm(deps, challenge.challenge_text, deadline);
    if (fromLlm !== null) {
      value = fromLlm;
      method = 'llm';
    }
  }
  // Better a guess than silence: both count the same against the account.
  const answer = formatAnswer(value ?? 0);

  const now = deps.clock.now();
  if (now >= deadline) {
    return finish(deps, code, { outcome: 'not_answered', detail: 'deadline passed before an answer was ready', method, answer, submittedAt: null, receivedAt });
  }
  const claimed = await deps.prisma.$executeRaw`
    UPDATE moltbook_challenges SET submitted_at = ${now}::timestamptz, answer = ${answer}, method = ${method}
    WHERE code = ${code} AND submitted_at IS NULL AND outcome = 'pending'`;
  if (!claimed) return { code, outcome: 'handled_elsewhere', method, answer, latencyMs: null };

  let outcome: ChallengeOutcome;
  let detail: string | null;
  try {
    const result = await deps.client.verify(code, answer);
    outcome = result.verified ? 'verified' : 'wrong';
    detail = result.message;
  } catch (error) {
    ({ outcome, detail } = classifyVerifyError(error));
    if (error instanceof MoltbookSuspendedError) {
      await openBreaker(deps, deps.accountId, 'suspended', `${error.serverMessage}${error.hint ? ` — ${error.hint}` : ''}`, error.endsAt);
    }
  }
  return finish(deps, code, { outcome, detail, method, answer, submittedAt: now, receivedAt });
}

async function finish(
  deps: VerificationDeps,
  code: string,
  r: { outcome: ChallengeOutcome; detail: string | null; method: 'rules' | 'llm'; answer: string; submittedAt: Date | null; receivedAt: Date },
): Promise<ChallengeResult> {
  const now = deps.clock.now();
  deps.metrics?.verification(r.outcome);
  const latencyMs = (r.submittedAt ?? now).getTime() - r.receivedAt.getTime();
  await deps.prisma.$executeRaw`
    UPDATE moltbook_challenges SET outcome = ${r.outcome}, latency_ms = ${latencyMs}, detail = ${r.detail?.slice(0, 500) ?? null},
      answer = coalesce(answer, ${r.answer}), method = coalesce(method, ${r.method})
    WHERE code = ${code}`;
  await writeEvents(deps.prisma, [
    {
      kind: 'moltbook:verification',
      source: 'moltbook',
      skill: 'moltbook_engagement',
      tags: r.outcome === 'verified' ? [] : ['warning'],
      payload: { code, outcome: r.outcome, method: r.method, latency_ms: latencyMs },
      createdAt: now,
    },
  ]);
  if (r.outcome !== 'verified') deps.logger.warn({ code, outcome: r.outcome, method: r.method, detail: r.detail }, 'moltbook verification failed');
  await recordVerification(deps, deps.accountId, r.outcome === 'verified', `${r.outcome}${r.detail ? ` (${r.detail})` : ''}`);
  return { code, outcome: r.outcome, method: r.method, answer: r.answer, latencyMs };
}

/**
 * Challenges a crashed or stopped process left behind: never submitted and past their
 * deadline are `not_answered`; submitted without an outcome for 10 minutes are `unknown`.
 * Both count against the breaker, as they count against the account.
 */
export async function sweepChallenges(deps: VerificationDeps): Promise<number> {
  const now = deps.clock.now();
  const { moltbook_safety: safety } = await deps.policy.read(deps.prisma, ['moltbook_safety']);
  const swept = await deps.prisma.$queryRaw<{ code: string; outcome: ChallengeOutcome }[]>`
    UPDATE moltbook_challenges SET
      outcome = CASE WHEN submitted_at IS NULL THEN 'not_answered' ELSE 'unknown' END,
      detail = 'left without an outcome (process stopped?)'
    WHERE account_id = ${deps.accountId} AND outcome = 'pending'
      AND ((submitted_at IS NULL AND (received_at + make_interval(secs => ${safety.verification_deadline_seconds}) < ${now}::timestamptz
                                      OR expires_at < ${now}::timestamptz))
        OR (submitted_at IS NOT NULL AND submitted_at < ${new Date(now.getTime() - 10 * 60_000)}::timestamptz))
    RETURNING code, outcome`;
  for (const row of swept) {
    await writeEvents(deps.prisma, [
      { kind: 'moltbook:verification', source: 'moltbook', skill: 'moltbook_engagement', tags: ['warning'], payload: { code: row.code, outcome: row.outcome, method: null, latency_ms: null }, createdAt: now },
    ]);
    await recordVerification(deps, deps.accountId, false, `${row.outcome} (left by a stopped process)`);
  }
  return swept.length;
}

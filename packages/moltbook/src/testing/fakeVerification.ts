/**
 * The fake's verification challenges and suspensions, as operators report them
 * (moltbook-verification.md): every created post and comment gets a garbled challenge;
 * content stays hidden from others until answered; one attempt per code; codes expire;
 * wrong or unanswered challenges count against the agent, and enough of them in a row
 * suspend it (writes then answer the documented 401 or 403 shape).
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '@opsloop/core';
import { generateChallenge, seededRandom } from './challengeGenerator.ts';
import type { FakeReply } from './fakeRateLimits.ts';

export interface FakeChallenge {
  code: string;
  text: string;
  answer: string;
  agentId: string;
  entityType: 'post' | 'comment';
  entityId: string;
  issuedAt: Date;
  expiresAt: Date;
  /** Every answer submitted for this code (a well-behaved client sends at most one). */
  attempts: { answer: string; at: Date }[];
  outcome: 'pending' | 'verified' | 'wrong' | 'expired';
}

export interface FakeVerificationOptions {
  /** How long a code is valid. (Default: 5 min) */
  ttlMs: number;
  /** `always_wrong` answers every submission as incorrect. (Default: 'honest') */
  mode: 'honest' | 'always_wrong';
  /** Consecutive failures (wrong or expired) that suspend the agent; null: never. (Default: 3) */
  suspendAfterFailures: number | null;
  /** (Default: 10) */
  suspensionHours: number;
  /** Which documented shape a suspended agent's writes get. (Default: 401) */
  suspensionStatus: 401 | 403;
  /** Seed of the challenge generator. (Default: 7) */
  seed: number;
}

interface Suspension {
  until: Date;
  offense: number;
}

export class FakeVerifier {
  readonly challenges = new Map<string, FakeChallenge>();
  options: FakeVerificationOptions;
  private readonly random: () => number;
  private readonly failures = new Map<string, number>();
  private readonly suspensions = new Map<string, Suspension>();
  private readonly offenses = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    options: Partial<FakeVerificationOptions> = {},
    private readonly onVerified: (c: FakeChallenge) => void,
  ) {
    this.options = { ttlMs: 5 * 60_000, mode: 'honest', suspendAfterFailures: 3, suspensionHours: 10, suspensionStatus: 401, seed: 7, ...options };
    this.random = seededRandom(this.options.seed);
  }

  /** Challenges to issue next, before generated ones (tests that need a particular text). */
  readonly scripted: { text: string; answer: string }[] = [];

  issue(agentId: string, entityType: 'post' | 'comment', entityId: string): FakeChallenge {
    const generated = this.scripted.shift() ?? generateChallenge(this.random);
    const now = this.clock.now();
    const challenge: FakeChallenge = {
      code: `moltbook_verify_${randomUUID().replaceAll('-', '')}`,
      text: generated.text,
      answer: generated.answer,
      agentId,
      entityType,
      entityId,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + this.options.ttlMs),
      attempts: [],
      outcome: 'pending',
    };
    this.challenges.set(challenge.code, challenge);
    return challenge;
  }

  wire(c: FakeChallenge): Record<string, unknown> {
    return {
      verification_code: c.code,
      challenge_text: c.text,
      expires_at: c.expiresAt.toISOString(),
      instructions: 'Solve the math problem and POST /api/v1/verify with {verification_code, answer} (two decimals). One attempt.',
    };
  }

  /** Unanswered challenges past their expiry count as failures (as Moltbook counts them). */
  sweep(): void {
    const now = this.clock.now();
    for (const c of this.challenges.values()) {
      if (c.outcome === 'pending' && c.attempts.length === 0 && c.expiresAt <= now) {
        c.outcome = 'expired';
        this.fail(c.agentId);
      }
    }
  }

  private fail(agentId: string): void {
    const n = (this.failures.get(agentId) ?? 0) + 1;
    this.failures.set(agentId, n);
    const limit = this.options.suspendAfterFailures;
    if (limit !== null && n >= limit) {
      this.suspend(agentId, this.options.suspensionHours);
      this.failures.set(agentId, 0);
    }
  }

  suspend(agentId: string, hours: number): void {
    const offense = (this.offenses.get(agentId) ?? 0) + 1;
    this.offenses.set(agentId, offense);
    this.suspensions.set(agentId, { until: new Date(this.clock.now().getTime() + hours * 3_600_000), offense });
  }

  unsuspend(agentId: string): void {
    this.suspensions.delete(agentId);
  }

  /** The documented answer to a suspended agent's write, or null when it is not suspended. */
  suspended(agentId: string): FakeReply | null {
    const s = this.suspensions.get(agentId);
    if (!s) return null;
    const leftMs = s.until.getTime() - this.clock.now().getTime();
    if (leftMs <= 0) {
      this.suspensions.delete(agentId);
      return null;
    }
    if (this.options.suspensionStatus === 403) {
      return {
        status: 403,
        body: {
          success: false,
          error: 'Your account has been suspended for repeatedly failing AI verification challenges',
          hint: 'Your last 3 challenges were not answered correctly. Contact support if you believe this is an error.',
        },
      };
    }
    return {
      status: 401,
      body: {
        error: 'Account suspended',
        hint: `Your account is suspended: Failing to answer AI verification challenge (offense #${s.offense}). Suspension ends in ${Math.ceil(leftMs / 3_600_000)} hours.`,
      },
    };
  }

  /** `POST /verify`. */
  verify(agentId: string, body: Record<string, unknown>): FakeReply {
    this.sweep();
    const code = typeof body.verification_code === 'string' ? body.verification_code : '';
    const answer = typeof body.answer === 'string' || typeof body.answer === 'number' ? String(body.answer) : '';
    if (!code || !answer) return { status: 400, body: { statusCode: 400, message: ['verification_code and answer are required'], error: 'Bad Request' } };
    const c = this.challenges.get(code);
    if (!c || c.agentId !== agentId) return { status: 404, body: { success: false, error: 'Verification code not found' } };
    c.attempts.push({ answer, at: this.clock.now() });
    if (c.attempts.length > 1) return { status: 409, body: { success: false, error: 'This verification code has already been used', hint: 'One attempt per code' } };
    if (c.outcome === 'expired' || c.expiresAt <= this.clock.now()) {
      if (c.outcome === 'pending') this.fail(agentId);
      c.outcome = 'expired';
      return { status: 410, body: { success: false, error: 'Verification code expired' } };
    }
    const right = this.options.mode === 'honest' && Number.isFinite(Number(answer)) && Number(answer).toFixed(2) === c.answer;
    if (!right) {
      c.outcome = 'wrong';
      this.fail(agentId);
      return { status: 400, body: { success: false, error: 'Incorrect answer', hint: 'The content stays hidden. Each code allows one attempt.' } };
    }
    c.outcome = 'verified';
    this.failures.set(agentId, 0);
    this.onVerified(c);
    return { status: 200, body: { success: true, message: 'Verification successful! Your content is now visible.', content_type: c.entityType, content_id: c.entityId } };
  }
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AppError, ConflictError, NotFoundError, ValidationError } from '@opsloop/core';
import type { ProposalDeps } from '../proposals/createProposal.ts';
import { approveProposal, rejectProposal } from '../proposals/decideProposal.ts';
import { APPROVE_ACTION, REJECT_ACTION } from './approvalMessages.ts';

/** Slack's replay window for a request timestamp. */
export const SLACK_MAX_AGE_SECONDS = 300;

const refused = (why: string) => new AppError(401, 'unauthorized', `Slack request refused: ${why}`);

/**
 * Slack's v0 request signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}`
 * with the signing secret. Refuses a timestamp more than 5 minutes from now (either
 * way) and compares in constant time. Returns the signature, the key for replay checks.
 */
export function verifySlackSignature(o: { secret: string; timestamp?: string; signature?: string; rawBody: Buffer; now: Date }): string {
  if (!o.timestamp || !o.signature) throw refused('missing signature headers');
  if (!/^\d{1,12}$/.test(o.timestamp)) throw refused('bad timestamp');
  if (Math.abs(o.now.getTime() / 1000 - Number(o.timestamp)) > SLACK_MAX_AGE_SECONDS) throw refused('stale timestamp');
  const expected = Buffer.from(`v0=${createHmac('sha256', o.secret).update(`v0:${o.timestamp}:`).update(o.rawBody).digest('hex')}`);
  const presented = Buffer.from(o.signature);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) throw refused('bad signature');
  return o.signature;
}

/**
 * Remembers a verified signature; false when it was seen before (a replay). Rows older
 * than the window are deleted on the way: a replay older than that fails the timestamp check.
 */
export async function recordSlackRequest(deps: Pick<ProposalDeps, 'prisma'>, signature: string, now: Date): Promise<boolean> {
  const cutoff = new Date(now.getTime() - 2 * SLACK_MAX_AGE_SECONDS * 1000);
  await deps.prisma.$executeRaw`DELETE FROM ops_slack_interactions WHERE received_at < ${cutoff}::timestamptz`;
  const rows = await deps.prisma.$queryRaw<{ signature: string }[]>`
    INSERT INTO ops_slack_interactions (signature, received_at) VALUES (${signature}, ${now}::timestamptz)
    ON CONFLICT (signature) DO NOTHING RETURNING signature`;
  return rows.length === 1;
}

const payloadSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1).max(100), username: z.string().max(100).optional(), name: z.string().max(100).optional() }).loose(),
  actions: z
    .array(z.object({ action_id: z.enum([APPROVE_ACTION, REJECT_ACTION]), value: z.uuid() }).loose())
    .min(1)
    .max(1),
  response_url: z.url().optional(),
}).loose();
export type SlackInteraction = z.infer<typeof payloadSchema>;

/** The form field `payload` (JSON) of an interaction request. */
export function parseSlackInteraction(rawBody: Buffer): SlackInteraction {
  const form = new URLSearchParams(rawBody.toString('utf8'));
  let json: unknown;
  try {
    json = JSON.parse(form.get('payload') ?? '');
  } catch {
    throw new ValidationError('Invalid Slack interaction', [{ path: 'payload', message: 'must be a JSON form field' }]);
  }
  const parsed = payloadSchema.safeParse(json);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, ['payload'], 'Invalid Slack interaction');
  return parsed.data;
}

export interface SlackDecision {
  proposalId: string;
  action: 'approve' | 'reject';
  /** false: the proposal was no longer pending (a second click); nothing changed. */
  applied: boolean;
  status: string;
  /** What to show in Slack in place of the buttons. */
  text: string;
}

/**
 * Applies an Approve / Reject click through the same functions as the API, so the same
 * gates hold. A click on a proposal that is no longer pending changes nothing and says so.
 */
export async function applySlackDecision(deps: ProposalDeps, interaction: SlackInteraction): Promise<SlackDecision> {
  const action = interaction.actions[0]!;
  const proposalId = action.value;
  const who = interaction.user.username ?? interaction.user.name ?? interaction.user.id;
  const verb = action.action_id === APPROVE_ACTION ? 'approve' : 'reject';
  try {
    const p =
      verb === 'approve'
        ? await approveProposal(deps, proposalId, `slack:${who}`)
        : await rejectProposal(deps, proposalId, `rejected in Slack by ${who}`);
    const text =
      p.status === 'approved' ? `:white_check_mark: Approved by ${who}` : p.status === 'rejected' && verb === 'approve' ? `:no_entry: Not approved: ${p.reason}` : `:x: Rejected by ${who}`;
    return { proposalId, action: verb, applied: true, status: p.status, text };
  } catch (error) {
    if (error instanceof NotFoundError) return { proposalId, action: verb, applied: false, status: 'unknown', text: 'This proposal no longer exists.' };
    if (error instanceof ConflictError) {
      const status = typeof error.details?.status === 'string' ? error.details.status : undefined;
      return {
        proposalId,
        action: verb,
        applied: false,
        status: status ?? 'pending',
        text: status ? `Nothing changed: this proposal is already ${status}.` : `Nothing changed: ${error.message}`,
      };
    }
    throw error;
  }
}

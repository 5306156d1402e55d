import { IncomingWebhook } from '@slack/webhook';
import { describeError, type Logger } from '@opsloop/core';
import type { DbClient } from '@opsloop/db';
import { writeEvents } from '../events.ts';
import type { OpsDeps } from '../types.ts';

/** Slack Block Kit message: what an incoming webhook accepts. */
export interface SlackMessage {
  text: string;
  blocks?: unknown[];
}

export interface SlackMessageSink {
  post(message: SlackMessage): Promise<void>;
}

export const APPROVE_ACTION = 'opsloop_approve';
export const REJECT_ACTION = 'opsloop_reject';

/** Posts to a Slack incoming webhook. Errors carry the status, never the URL (it is the secret). */
export function slackMessageSink(webhookUrl: string, timeoutMs = 10_000): SlackMessageSink {
  const webhook = new IncomingWebhook(webhookUrl, { timeout: timeoutMs });
  return {
    async post(message) {
      try {
        await webhook.send(message as never);
      } catch (error) {
        const e = error as { code?: string; statusCode?: number; original?: { response?: { status?: number } } };
        const status = e.statusCode ?? e.original?.response?.status;
        // No `cause`: the original error carries the request config, webhook URL included.
        // eslint-disable-next-line preserve-caught-error
        throw new Error(`Slack webhook delivery failed${status ? ` (HTTP ${status})` : ''}${e.code ? ` [${e.code}]` : ''}`);
      }
    },
  };
}

interface PendingProposal {
  id: string;
  title: string;
  skill: string;
  reason: string | null;
  proposed_by: string | null;
  trace_id: string;
  steps: { kind: string; params?: Record<string, unknown> }[];
  created_at: Date;
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The approval message: what is proposed, why it waits, and Approve / Reject buttons. */
export function approvalMessage(p: PendingProposal): SlackMessage {
  const steps = p.steps.map((s, i) => `${i + 1}. \`${s.kind}\` ${clip(JSON.stringify(s.params ?? {}), 300)}`).join('\n');
  return {
    text: `Approval needed: ${p.title}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(`Approval needed: ${p.title}`, 150) } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Skill*\n${p.skill}` },
          { type: 'mrkdwn', text: `*Proposed by*\n${p.proposed_by ?? 'unknown'}` },
        ],
      },
      { type: 'section', text: { type: 'mrkdwn', text: clip(`*Steps*\n${steps}`, 2900) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: clip(`${p.reason ?? 'waiting for a person'} · proposal ${p.id}`, 300) }] },
      {
        type: 'actions',
        block_id: `opsloop_decision:${p.id}`,
        elements: [
          { type: 'button', action_id: APPROVE_ACTION, style: 'primary', value: p.id, text: { type: 'plain_text', text: 'Approve' } },
          { type: 'button', action_id: REJECT_ACTION, style: 'danger', value: p.id, text: { type: 'plain_text', text: 'Reject' } },
        ],
      },
    ],
  };
}

const MAX_ATTEMPTS = 5;

/**
 * Posts every pending proposal not yet posted (newer than `maxAgeDays`) to Slack, once
 * across replicas: each is claimed in ops_slack_messages before it is sent. A failed
 * post is retried with backoff (1, 2, 4, 8 min) up to 5 attempts. Writes
 * `slack:approval_posted` for each posted one.
 */
export async function postPendingApprovals(
  deps: Pick<OpsDeps, 'prisma' | 'clock'> & { logger: Logger; sink: SlackMessageSink },
  o: { maxAgeDays?: number; limit?: number } = {},
): Promise<{ posted: number; failed: number }> {
  const now = deps.clock.now();
  const since = new Date(now.getTime() - (o.maxAgeDays ?? 7) * 86_400_000);
  const claimed = await deps.prisma.$queryRaw<PendingProposal[]>`
    WITH due AS (
      SELECT p.id FROM ops_proposals p
      LEFT JOIN ops_slack_messages m ON m.proposal_id = p.id
      WHERE p.status = 'pending' AND p.created_at > ${since}::timestamptz
        AND (m.proposal_id IS NULL OR (m.status = 'failed' AND m.next_attempt_at <= ${now}::timestamptz AND m.attempts < ${MAX_ATTEMPTS}))
      ORDER BY p.created_at LIMIT ${o.limit ?? 20}
    ), claim AS (
      INSERT INTO ops_slack_messages (proposal_id, status, created_at)
      SELECT id, 'posting', ${now}::timestamptz FROM due
      ON CONFLICT (proposal_id) DO UPDATE SET status = 'posting'
        WHERE ops_slack_messages.status = 'failed' AND ops_slack_messages.next_attempt_at <= ${now}::timestamptz
      RETURNING proposal_id
    )
    SELECT p.id, p.title, p.skill, p.reason, p.proposed_by, p.trace_id, p.steps, p.created_at
    FROM ops_proposals p JOIN claim ON claim.proposal_id = p.id ORDER BY p.created_at`;
  let posted = 0;
  let failed = 0;
  for (const p of claimed) {
    try {
      await deps.sink.post(approvalMessage(p));
      await markPosted(deps.prisma, p, deps.clock.now());
      posted++;
    } catch (error) {
      failed++;
      const message = describeError(error);
      deps.logger.warn({ proposalId: p.id, error: message }, 'could not post the approval to Slack');
      await deps.prisma.$executeRaw`
        UPDATE ops_slack_messages SET status = 'failed', attempts = attempts + 1, last_error = ${message},
          next_attempt_at = ${deps.clock.now()}::timestamptz + make_interval(mins => power(2, attempts)::int)
        WHERE proposal_id = ${p.id}::uuid`;
    }
  }
  return { posted, failed };
}

async function markPosted(db: DbClient, p: PendingProposal, now: Date) {
  await db.$executeRaw`
    UPDATE ops_slack_messages SET status = 'posted', attempts = attempts + 1, posted_at = ${now}::timestamptz, last_error = NULL
    WHERE proposal_id = ${p.id}::uuid`;
  await writeEvents(db, [{ kind: 'slack:approval_posted', source: 'slack', skill: p.skill, proposalId: p.id, traceId: p.trace_id, payload: { title: p.title }, createdAt: now }]);
}

/**
 * Runs postPendingApprovals whenever new events commit (a proposal turning pending is
 * one), one run at a time, and every minute for retries.
 */
export function startApprovalNotifier(
  deps: Pick<OpsDeps, 'prisma' | 'clock'> & { logger: Logger; sink: SlackMessageSink },
  horizon: { onAdvance(listener: () => void): () => void },
  retryMs = 60_000,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const run = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await postPendingApprovals(deps);
        } catch (error) {
          deps.logger.warn({ err: error }, 'approval notifier run failed');
        }
      } while (again && !stopped);
    })().finally(() => (running = undefined));
  };
  const unsubscribe = horizon.onAdvance(run);
  const timer = setInterval(run, retryMs);
  timer.unref();
  run();
  return {
    async stop() {
      stopped = true;
      unsubscribe();
      clearInterval(timer);
      await running;
    },
  };
}

import express from 'express';
import { z } from 'zod';
import { AppError } from '@opsloop/core';
import { applySlackDecision, parseSlackInteraction, recordSlackRequest, verifySlackSignature, type ProposalDeps } from '@opsloop/ops';
import type { RouteGroup } from '../http/route.ts';

export interface SlackOptions {
  /** SLACK_SIGNING_SECRET; without it the route answers 404 (Slack approvals are off). */
  signingSecret?: string;
}

// Slack's response_url: https on Slack's side; loopback is allowed for the fake in tests.
const respondable = (url: string) => /^https:\/\//.test(url) || /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(url);

/**
 * POST /api/ops/slack/interactions: Slack calls this when someone clicks Approve or
 * Reject. Not behind the API token: the request is authenticated by Slack's signature
 * over the raw body, which is why this route reads the body itself.
 */
export function slackRoutes(g: RouteGroup, ops: ProposalDeps, o: SlackOptions): void {
  g.add({
    method: 'post',
    path: '/slack/interactions',
    tags: ['slack'],
    summary: 'Slack interactivity endpoint: Approve / Reject buttons on approval messages',
    description:
      'Verified with SLACK_SIGNING_SECRET (v0 HMAC-SHA256 over `v0:{X-Slack-Request-Timestamp}:{raw body}`, 5-minute window, constant-time compare); a request seen before is refused. The decision goes through the same approve/reject functions as the API; a click on a proposal that is no longer pending changes nothing and says so.',
    auth: 'slack',
    bodyType: 'application/x-www-form-urlencoded',
    bodyParser: express.raw({ type: 'application/x-www-form-urlencoded', limit: '64kb' }),
    body: z.object({ payload: z.string().meta({ description: 'Slack block_actions payload (JSON)' }) }),
    responses: {
      200: {
        description: 'Applied, or a no-op for a proposal no longer pending (`applied: false`)',
        schema: z.object({ proposalId: z.uuid(), action: z.enum(['approve', 'reject']), applied: z.boolean(), status: z.string(), text: z.string() }),
      },
      404: { description: 'not_found: SLACK_SIGNING_SECRET is not set' },
    },
    handler: async (_input, req) => {
      if (!o.signingSecret) throw new AppError(404, 'not_found', 'Slack interactions are not configured (SLACK_SIGNING_SECRET)');
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const now = ops.clock.now();
      const signature = verifySlackSignature({
        secret: o.signingSecret,
        timestamp: req.header('x-slack-request-timestamp'),
        signature: req.header('x-slack-signature'),
        rawBody,
        now,
      });
      if (!(await recordSlackRequest(ops, signature, now))) throw new AppError(401, 'unauthorized', 'Slack request refused: already received (replay)');
      const interaction = parseSlackInteraction(rawBody);
      const decision = await applySlackDecision(ops, interaction);
      const responseUrl = interaction.response_url;
      if (responseUrl && respondable(responseUrl)) {
        // Replaces the buttons with the outcome; the decision stands whatever Slack answers.
        fetch(responseUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ replace_original: decision.applied, text: decision.text }),
          signal: AbortSignal.timeout(10_000),
        }).catch((error: unknown) => req.log.warn({ err: error }, 'could not update the Slack message'));
      }
      return decision;
    },
  });
}

import { IncomingWebhook } from '@slack/webhook';
import type { Logger } from '@opsloop/core';
import type { DbClient, PrismaClient } from '@opsloop/db';
import type { OpsObserver } from '../metrics/observer.ts';

/** Where alerts and summaries go. Absent when SLACK_WEBHOOK_URL is not configured. */
export interface AlertSink {
  send(text: string): Promise<void>;
}

/** Slack incoming webhook. Errors carry the status, never the URL (it is the secret). */
export function slackSink(webhookUrl: string, timeoutMs = 10_000): AlertSink {
  const webhook = new IncomingWebhook(webhookUrl, { timeout: timeoutMs });
  return {
    async send(text) {
      try {
        await webhook.send({ text });
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

/** Records an alert (delivered later by `deliverAlerts`) and its `alert:raised` event. */
export async function raiseAlert(db: DbClient, alert: { kind: string; message: string; payload: Record<string, unknown> }, now: Date) {
  const [row] = await db.$queryRaw<{ id: bigint }[]>`
    WITH alert AS (
      INSERT INTO ops_alerts (kind, message, payload, delivery_status, created_at)
      VALUES (${alert.kind}, ${alert.message}, ${JSON.stringify(alert.payload)}::jsonb, 'pending', ${now}::timestamptz)
      RETURNING id
    ), event AS (
      INSERT INTO ops_events (kind, source, payload, tags, created_at)
      SELECT 'alert:raised', 'ops_monitor', jsonb_build_object('alertId', id, 'kind', ${alert.kind}::text, 'message', ${alert.message}::text), '{alert}', ${now}::timestamptz FROM alert
    )
    SELECT id FROM alert`;
  return Number(row!.id);
}

/** Sends every undelivered alert; a failure is recorded and retried on the next heartbeat. */
export async function deliverAlerts(deps: { prisma: PrismaClient; logger: Logger; sink?: AlertSink; observer?: OpsObserver }, now: Date) {
  const pending = await deps.prisma.opsAlert.findMany({
    where: { deliveryStatus: { in: ['pending', 'failed'] }, attempts: { lt: 20 } },
    orderBy: { id: 'asc' },
    take: 20,
  });
  const result = { delivered: 0, failed: 0, skipped: 0 };
  for (const alert of pending) {
    if (!deps.sink) {
      await deps.prisma.opsAlert.update({ where: { id: alert.id }, data: { deliveryStatus: 'skipped', lastError: 'SLACK_WEBHOOK_URL not configured' } });
      result.skipped++;
      deps.observer?.alertDelivery(alert.kind, false);
      continue;
    }
    try {
      await deps.sink.send(alert.message);
      await deps.prisma.opsAlert.update({ where: { id: alert.id }, data: { deliveryStatus: 'delivered', attempts: { increment: 1 }, deliveredAt: now, lastError: null } });
      result.delivered++;
      deps.observer?.alertDelivery(alert.kind, true);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await deps.prisma.opsAlert.update({ where: { id: alert.id }, data: { deliveryStatus: 'failed', attempts: { increment: 1 }, lastError: message } });
      deps.logger.warn({ alertId: Number(alert.id), error: message }, 'alert delivery failed; retried next heartbeat');
      result.failed++;
      deps.observer?.alertDelivery(alert.kind, false);
    }
  }
  return result;
}

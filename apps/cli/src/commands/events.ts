import type { Command } from 'commander';
import { setTimeout as delay } from 'node:timers/promises';
import { apiClient, globals, type CliContext } from '../context.ts';
import { CliError, EXIT } from '../exitCodes.ts';
import { table, when } from '../output.ts';
import { readSse } from '../sse.ts';

interface OpsEvent {
  id: number;
  kind: string;
  source: string | null;
  traceId: string | null;
  missionId: string | null;
  payload: unknown;
  createdAt: string;
}

interface EventOptions {
  follow?: boolean;
  kind?: string;
  trace?: string;
  since?: string;
  limit: string;
}

export function registerEventCommands(program: Command, ctx: CliContext): void {
  program
    .command('events')
    .description('events, oldest first; --follow streams new ones live (Ctrl-C to stop)')
    .option('-f, --follow', 'keep streaming new events (Server-Sent Events, resumes after a drop)')
    .option('--kind <kind>', 'kind, or a prefix pattern such as mission:*')
    .option('--trace <traceId>', 'only one trace (one proposal and everything it caused)')
    .option('--since <id>', 'only events after this id')
    .option('--limit <n>', 'at most n without --follow (1-1000)', '100')
    .action(async (opts: EventOptions, cmd: Command) => {
      if (opts.follow) return follow(ctx, cmd, opts);
      const page = await apiClient(ctx, cmd).get<{ items: OpsEvent[]; nextSinceId: number | null }>('/events', {
        kind: opts.kind,
        trace_id: opts.trace,
        since_id: opts.since,
        limit: opts.limit,
      });
      if (globals(cmd).json) ctx.io.out(`${JSON.stringify(page, null, 2)}\n`);
      else ctx.io.out(table(page.items, EVENT_COLUMNS, 'no events'));
    });
}

const EVENT_COLUMNS = [
  { header: 'id', value: (e: OpsEvent) => e.id },
  { header: 'kind', value: (e: OpsEvent) => e.kind },
  { header: 'at', value: (e: OpsEvent) => when(e.createdAt) },
  { header: 'trace', value: (e: OpsEvent) => e.traceId },
  { header: 'payload', value: (e: OpsEvent) => e.payload },
];

/**
 * Streams GET /events/stream. After a dropped connection it reconnects with Last-Event-ID,
 * so no event is missed or printed twice. One line per event (JSON lines with --json).
 */
async function follow(ctx: CliContext, cmd: Command, opts: EventOptions): Promise<void> {
  const client = apiClient(ctx, cmd);
  const json = globals(cmd).json;
  const query = new URLSearchParams();
  if (opts.kind) query.set('kind', opts.kind);
  if (opts.trace) query.set('trace_id', opts.trace);
  const path = `/events/stream${query.size ? `?${query}` : ''}`;
  let lastId = opts.since;
  let failures = 0;
  while (!ctx.signal.aborted) {
    try {
      const res = await client.stream(path, lastId ? { 'last-event-id': lastId } : {}, ctx.signal);
      failures = 0;
      for await (const message of readSse(res.body!)) {
        if (message.id) lastId = message.id;
        if (message.event && message.event !== 'message' && message.event !== 'event') continue;
        const event = JSON.parse(message.data) as OpsEvent;
        ctx.io.out(json ? `${JSON.stringify(event)}\n` : `${event.id}  ${when(event.createdAt)}  ${event.kind}  ${event.traceId ?? '-'}  ${JSON.stringify(event.payload)}\n`);
      }
    } catch (error) {
      if (ctx.signal.aborted) return;
      // Refusals (auth, bad filter, unknown route) will not heal by retrying.
      if (error instanceof CliError && error.code !== EXIT.unreachable && error.code !== EXIT.error) throw error;
      failures += 1;
      if (failures >= 10) throw error;
      ctx.io.err(`opsloop: stream interrupted (${error instanceof Error ? error.message : String(error)}); reconnecting\n`);
    }
    await delay(Math.min(500 * 2 ** failures, 10_000), undefined, { signal: ctx.signal }).catch(() => undefined);
  }
}

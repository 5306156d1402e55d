import { once } from 'node:events';
import { z } from 'zod';
import { AppError, ValidationError, type Logger } from '@opsloop/core';
import { readStreamEvents, type EventHorizon, type ProposalDeps } from '@opsloop/ops';
import type { RouteGroup } from '../http/route.ts';

export interface EventStreamOptions {
  /** Absent: the stream answers 503 (e.g. a process built without a LISTEN connection). */
  horizon?: EventHorizon;
  /** Concurrent streams this process serves; more get 429. (Default: 100) */
  maxStreams?: number;
  /** Comment line sent while idle, so proxies keep the connection. (Default: 15000) */
  keepAliveMs?: number;
}

const BATCH = 500;
const kindPattern = z
  .string()
  .min(1)
  .max(100)
  .regex(/^(\*|[A-Za-z0-9_.:-]+\*?)$/, 'an event kind, a prefix pattern like "mission:*", or "*"');

/**
 * GET /api/ops/events/stream: Server-Sent Events. Each message is one event as JSON with
 * `id:` set to the event id, so a reconnecting EventSource resumes with Last-Event-ID
 * and gets every later event exactly once, in id order (reads stop at the horizon, see
 * eventHorizon.ts).
 */
export function eventStreamRoutes(g: RouteGroup, ops: Pick<ProposalDeps, 'prisma'> & { logger: Logger }, o: EventStreamOptions): void {
  const maxStreams = o.maxStreams ?? 100;
  const keepAliveMs = o.keepAliveMs ?? 15_000;
  let open = 0;

  g.add({
    method: 'get',
    path: '/events/stream',
    tags: ['events'],
    summary: 'Live events (Server-Sent Events), resumable with Last-Event-ID',
    description:
      'Each message: `id: <event id>` and `data: <event JSON>`. Without Last-Event-ID or since_id the stream starts at the current end. A comment line `: keep-alive` every 15 s while idle. Send Last-Event-ID (the last id received) to resume.',
    auth: 'read',
    query: z.object({
      kind: kindPattern.optional().meta({ description: 'Only events of this kind, or prefix pattern (`mission:*`)' }),
      trace_id: z.uuid().optional(),
      since_id: z.coerce.number().int().min(0).optional().meta({ description: 'Start after this event id (Last-Event-ID wins when both are sent)' }),
    }),
    responses: {
      200: { description: 'An event stream', contentType: 'text/event-stream' },
      429: { description: 'too_many_streams: the process serves its maximum number of streams' },
      503: { description: 'unavailable: live events are not running in this process' },
    },
    handler: async ({ query }, req, res) => {
      const horizon = o.horizon;
      if (!horizon || horizon.closed.aborted) throw new AppError(503, 'unavailable', 'live events are not available in this process');
      const header = req.headers['last-event-id'];
      if (header !== undefined && !/^\d{1,18}$/.test(String(header))) {
        throw new ValidationError('Invalid request headers', [{ path: 'headers.last-event-id', message: 'must be an event id' }]);
      }
      if (open >= maxStreams) throw new AppError(429, 'too_many_streams', `this process serves at most ${maxStreams} event streams`);
      open++;
      const stop = new AbortController();
      const signal = AbortSignal.any([stop.signal, horizon.closed]);
      res.on('close', () => stop.abort());
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      });
      res.write('retry: 2000\n\n');
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
      try {
        let cursor = header !== undefined ? BigInt(String(header)) : query.since_id !== undefined ? BigInt(query.since_id) : undefined;
        if (cursor === undefined) {
          await horizon.waitBeyond(-1n, signal);
          cursor = horizon.current() ?? 0n;
        }
        while (!signal.aborted) {
          const upTo = horizon.current();
          if (upTo === undefined || upTo <= cursor) {
            await horizon.waitBeyond(cursor, signal);
            continue;
          }
          const events = await readStreamEvents(ops.prisma, { after: cursor, upTo, limit: BATCH, kind: query.kind, traceId: query.trace_id });
          for (const event of events) {
            if (signal.aborted) return;
            if (!res.write(`id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`)) await once(res, 'drain', { signal }).catch(() => {});
          }
          // A short batch read everything up to the horizon that matched.
          cursor = events.length === BATCH ? BigInt(events[events.length - 1]!.id) : upTo;
        }
      } catch (error) {
        if (!signal.aborted) req.log.warn({ err: error }, 'event stream ended by an error; the client will reconnect');
      } finally {
        clearInterval(keepAlive);
        open--;
        res.end();
      }
    },
  });
}

import { z } from 'zod';
import { dailySummary, heartbeatPhases, lastHeartbeat, runHeartbeat, type HeartbeatDeps } from '@opsloop/ops';
import { queryDate } from '@opsloop/core';
import type { RouteGroup } from '../http/route.ts';

const row = z.object({}).loose();

export function heartbeatRoutes(g: RouteGroup, deps: HeartbeatDeps): void {
  const phases = heartbeatPhases(deps);

  g.add({
    method: 'post',
    path: '/heartbeat',
    tags: ['heartbeat'],
    summary: 'Run the heartbeat (heartbeat token or API token)',
    auth: 'heartbeat',
    responses: { 200: { description: 'Each phase with its result, duration and error', schema: row }, 409: { description: 'Another heartbeat is running', schema: row } },
    handler: async (_input, req, res) => {
      const outcome = await runHeartbeat(deps, phases, `http:${req.ip ?? 'unknown'}`);
      if (outcome.status === 'already_running') res.status(409);
      return outcome;
    },
  });

  g.add({
    method: 'get',
    path: '/heartbeat/last',
    tags: ['heartbeat'],
    summary: 'The last completed heartbeat with each phase',
    auth: 'read',
    responses: { 200: { description: 'The heartbeat (null before the first)', schema: z.object({ heartbeat: row.nullable() }) } },
    handler: async () => ({ heartbeat: await lastHeartbeat(deps.prisma) }),
  });

  g.add({
    method: 'get',
    path: '/summary/daily',
    tags: ['heartbeat'],
    summary: "A day's summary (default today in OPS_TIMEZONE)",
    auth: 'read',
    query: z.object({ date: queryDate().optional() }),
    responses: { 200: { description: 'The summary', schema: row } },
    handler: ({ query }) => dailySummary(deps, query.date),
  });
}

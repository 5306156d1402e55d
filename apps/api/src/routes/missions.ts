import { z } from 'zod';
import { NotFoundError, storedString } from '@opsloop/core';
import { getEvent, getMission, listEvents, listMissions, MISSION_STATUSES, workersStatus, type ProposalDeps } from '@opsloop/ops';
import type { RouteGroup } from '../http/route.ts';
import { idParams, listQuery } from './proposals.ts';

const row = z.object({}).loose();

export const eventsQuery = z.object({
  kind: storedString().min(1).max(100).optional().meta({ description: 'An event kind, or a prefix pattern like `mission:*`' }),
  since_id: z.coerce.number().int().min(0).optional(),
  trace_id: z.uuid().optional(),
  mission_id: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  latest: z.enum(['true', 'false']).optional().meta({ description: 'true: the newest `limit` matching events (still oldest first), for a tail' }),
});

export function missionRoutes(g: RouteGroup, ops: ProposalDeps): void {
  g.add({
    method: 'get',
    path: '/missions',
    tags: ['missions'],
    summary: 'List missions (newest first)',
    auth: 'read',
    query: listQuery.extend({ status: z.enum(MISSION_STATUSES).optional() }),
    responses: { 200: { description: 'A page of missions', schema: z.object({ items: z.array(row), nextCursor: z.string().nullable() }).loose() } },
    handler: ({ query }) => listMissions(ops.prisma, query),
  });

  g.add({
    method: 'get',
    path: '/missions/:id',
    tags: ['missions'],
    summary: 'One mission with its steps',
    auth: 'read',
    params: idParams,
    responses: { 200: { description: 'The mission', schema: z.object({ mission: row }) }, 404: { description: 'not_found' } },
    handler: async ({ params }) => {
      const mission = await getMission(ops.prisma, params.id);
      if (!mission) throw new NotFoundError('mission');
      return { mission };
    },
  });

  g.add({
    method: 'get',
    path: '/events',
    tags: ['events'],
    summary: 'List events (oldest first)',
    auth: 'read',
    query: eventsQuery,
    responses: { 200: { description: 'A page of events', schema: z.object({ items: z.array(row), nextSinceId: z.number().nullable() }).loose() } },
    handler: ({ query: q }) => listEvents(ops.prisma, { kind: q.kind, sinceId: q.since_id, traceId: q.trace_id, missionId: q.mission_id, limit: q.limit, latest: q.latest === 'true' }),
  });

  g.add({
    method: 'get',
    path: '/events/:id',
    tags: ['events'],
    summary: 'One event',
    auth: 'read',
    params: z.object({ id: z.coerce.number().int().min(1) }),
    responses: { 200: { description: 'The event', schema: z.object({ event: row }) }, 404: { description: 'not_found' } },
    handler: async ({ params }) => {
      const event = await getEvent(ops.prisma, params.id);
      if (!event) throw new NotFoundError('event');
      return { event };
    },
  });

  g.add({
    method: 'get',
    path: '/workers/status',
    tags: ['steps'],
    summary: 'Steps by status (24 h), queue depth by kind, oldest queued age, leases by worker',
    auth: 'read',
    responses: { 200: { description: 'Worker status', schema: row } },
    handler: () => workersStatus(ops.prisma, ops.clock.now()),
  });
}

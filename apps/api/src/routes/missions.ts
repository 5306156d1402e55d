import { Router } from 'express';
import { z } from 'zod';
import { NotFoundError, storedString } from '@opsloop/core';
import { getEvent, getMission, listEvents, listMissions, MISSION_STATUSES, workersStatus, type ProposalDeps } from '@opsloop/ops';
import { parse } from '../http/validate.ts';
import { idParams, listQuery } from './proposals.ts';

const missionListQuery = listQuery.extend({ status: z.enum(MISSION_STATUSES).optional() });
const eventsQuery = z.object({
  kind: storedString().min(1).max(100).optional(),
  since_id: z.coerce.number().int().min(0).optional(),
  trace_id: z.uuid().optional(),
  mission_id: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const eventParams = z.object({ id: z.coerce.number().int().min(1) });

export function missionRoutes(ops: ProposalDeps): Router {
  const router = Router();

  router.get('/missions', async (req, res) => {
    const q = parse(missionListQuery, req.query, 'query');
    res.json(await listMissions(ops.prisma, q));
  });

  router.get('/missions/:id', async (req, res) => {
    const { id } = parse(idParams, req.params, 'params');
    const mission = await getMission(ops.prisma, id);
    if (!mission) throw new NotFoundError('mission');
    res.json({ mission });
  });

  router.get('/events', async (req, res) => {
    const q = parse(eventsQuery, req.query, 'query');
    res.json(await listEvents(ops.prisma, { kind: q.kind, sinceId: q.since_id, traceId: q.trace_id, missionId: q.mission_id, limit: q.limit }));
  });

  router.get('/events/:id', async (req, res) => {
    const { id } = parse(eventParams, req.params, 'params');
    const event = await getEvent(ops.prisma, id);
    if (!event) throw new NotFoundError('event');
    res.json({ event });
  });

  router.get('/workers/status', async (_req, res) => {
    res.json(await workersStatus(ops.prisma, ops.clock.now()));
  });

  return router;
}

import { Router } from 'express';
import { z } from 'zod';
import { dailySummary, heartbeatPhases, lastHeartbeat, runHeartbeat, type HeartbeatDeps } from '@opsloop/ops';
import { queryDate } from '@opsloop/core';
import { parse } from '../http/validate.ts';

/** POST /heartbeat: the API router lets the heartbeat token through for this route only. */
export function heartbeatRoutes(deps: HeartbeatDeps): Router {
  const router = Router();
  const phases = heartbeatPhases(deps);

  router.post('/heartbeat', async (req, res) => {
    const outcome = await runHeartbeat(deps, phases, `http:${req.ip ?? 'unknown'}`);
    if (outcome.status === 'already_running') {
      res.status(409).json(outcome);
      return;
    }
    res.json(outcome);
  });
  return router;
}

const summaryQuery = z.object({ date: queryDate().optional() });

export function opsReportRoutes(deps: HeartbeatDeps): Router {
  const router = Router();
  router.get('/heartbeat/last', async (_req, res) => {
    res.json({ heartbeat: await lastHeartbeat(deps.prisma) });
  });
  router.get('/summary/daily', async (req, res) => {
    const { date } = parse(summaryQuery, req.query, 'query');
    res.json(await dailySummary(deps, date));
  });
  return router;
}

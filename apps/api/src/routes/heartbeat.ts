import { Router } from 'express';
import { z } from 'zod';
import { dailySummary, heartbeatPhases, lastHeartbeat, runHeartbeat, type HeartbeatDeps } from '@opsloop/ops';
import { requireToken, type AuthTokens } from '../http/auth.ts';
import { parse } from '../http/validate.ts';

/** Mounted before the API-token router: the heartbeat caller has its own token. */
export function heartbeatRoutes(deps: HeartbeatDeps, tokens: AuthTokens): Router {
  const router = Router();
  const phases = heartbeatPhases(deps);

  router.post('/api/ops/heartbeat', requireToken(tokens, 'heartbeat'), async (req, res) => {
    const outcome = await runHeartbeat(deps, phases, `http:${req.ip ?? 'unknown'}`);
    if (outcome.status === 'already_running') {
      res.status(409).json(outcome);
      return;
    }
    res.json(outcome);
  });
  return router;
}

export function opsReportRoutes(deps: HeartbeatDeps): Router {
  const router = Router();
  router.get('/heartbeat/last', async (_req, res) => {
    res.json({ heartbeat: await lastHeartbeat(deps.prisma) });
  });
  router.get('/summary/daily', async (req, res) => {
    const { date } = parse(z.object({ date: z.iso.date().optional() }), req.query, 'query');
    res.json(await dailySummary(deps, date));
  });
  return router;
}

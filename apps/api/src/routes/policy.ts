import { Router } from 'express';
import { z } from 'zod';
import { listPolicy, updatePolicy, type ProposalDeps } from '@opsloop/ops';
import { parse } from '../http/validate.ts';

export function policyRoutes(ops: ProposalDeps): Router {
  const router = Router();

  router.get('/policy', async (_req, res) => {
    res.json({ items: await listPolicy(ops) });
  });

  router.put('/policy/:key', async (req, res) => {
    const { key } = parse(z.object({ key: z.string().min(1).max(100) }), req.params, 'params');
    const body = parse(z.object({ value: z.json(), changedBy: z.string().max(100).optional() }).strict(), req.body, 'body');
    res.json({ policy: await updatePolicy(ops, key, body.value, body.changedBy) });
  });

  return router;
}

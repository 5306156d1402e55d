import { Router } from 'express';
import { z } from 'zod';
import { listPolicy, updatePolicy, type ProposalDeps } from '@opsloop/ops';
import { storedJson, storedString } from '@opsloop/core';
import { parse } from '../http/validate.ts';

const policyParams = z.object({ key: storedString().min(1).max(100) });
const policyBody = z.object({ value: storedJson(), changedBy: storedString().max(100).optional() }).strict();

export function policyRoutes(ops: ProposalDeps): Router {
  const router = Router();

  router.get('/policy', async (_req, res) => {
    res.json({ items: await listPolicy(ops) });
  });

  router.put('/policy/:key', async (req, res) => {
    const { key } = parse(policyParams, req.params, 'params');
    const body = parse(policyBody, req.body, 'body');
    res.json({ policy: await updatePolicy(ops, key, body.value, body.changedBy) });
  });

  return router;
}

import { Router } from 'express';
import { z } from 'zod';
import { deleteStepKind, getCatalogEntry, kindNameSchema, listCatalog, registerStepKind, updateStepKind, type OpsDeps, type ProposalDeps } from '@opsloop/ops';
import { parse } from '../http/validate.ts';

const nameParams = z.object({ name: kindNameSchema });

/** The step catalogue: every kind with its params as JSON Schema; operators register external kinds. */
export function catalogRoutes(ops: OpsDeps & ProposalDeps): Router {
  const router = Router();

  router.get('/catalog', async (_req, res) => {
    res.json({ items: await listCatalog(ops) });
  });

  router.get('/catalog/kinds/:name', async (req, res) => {
    const { name } = parse(nameParams, req.params, 'params');
    res.json({ kind: await getCatalogEntry(ops, name) });
  });

  router.post('/catalog/kinds', async (req, res) => {
    res.status(201).json({ kind: await registerStepKind(ops, req.body) });
  });

  router.put('/catalog/kinds/:name', async (req, res) => {
    const { name } = parse(nameParams, req.params, 'params');
    res.json({ kind: await updateStepKind(ops, name, req.body) });
  });

  router.delete('/catalog/kinds/:name', async (req, res) => {
    const { name } = parse(nameParams, req.params, 'params');
    await deleteStepKind(ops, name);
    res.status(204).end();
  });

  return router;
}

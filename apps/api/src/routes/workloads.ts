import { Router } from 'express';
import { workloadRoutes, type WorkloadDeps } from '@opsloop/ops';
import { parse } from '../http/validate.ts';

/**
 * The workloads' own routes (described in packages without Express), mounted under
 * /api/ops behind the API token, and GET /workloads: what each workload registered, for
 * the console's navigation and for operators.
 */
export function workloadRouter(ops: WorkloadDeps): Router {
  const router = Router();
  const workloads = ops.workloads ?? [];

  router.get('/workloads', (_req, res) => {
    res.json({
      items: workloads.map((w) => ({
        name: w.name,
        stepKinds: (w.stepKinds ?? []).map((k) => k.kind),
        policyKeys: (w.policyKeys ?? []).map((p) => p.key),
        summarySections: (w.summarySections ?? []).map((s) => s.key),
        consolePages: w.consolePages ?? [],
        routes: (w.routes?.(ops) ?? []).map((r) => ({ method: r.method.toUpperCase(), path: `/api/ops${r.path}`, summary: r.summary })),
      })),
    });
  });

  for (const route of workloadRoutes(workloads, ops)) {
    router[route.method](route.path, async (req, res) => {
      const input = {
        params: route.params ? parse(route.params, req.params, 'params') : req.params,
        query: route.query ? parse(route.query, req.query, 'query') : {},
        body: route.body ? parse(route.body, req.body, 'body') : undefined,
      };
      const result = await route.handle(input);
      if (result === undefined) res.status(route.status ?? 204).end();
      else res.status(route.status ?? 200).json(result);
    });
  }
  return router;
}

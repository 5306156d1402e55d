import { z } from 'zod';
import { workloadRoutes as routesOf, type WorkloadDeps } from '@opsloop/ops';
import type { RouteGroup } from '../http/route.ts';

type AnyObject = z.ZodObject<z.ZodRawShape>;
const asObject = (schema: z.ZodType | undefined) => (schema instanceof z.ZodObject ? (schema as AnyObject) : undefined);

/**
 * The workloads' own routes (described in packages without Express), mounted under
 * /api/ops behind the API token and documented like every other route, and GET
 * /workloads: what each workload registered, for the console's navigation and for operators.
 */
export function workloadRoutes(g: RouteGroup, ops: WorkloadDeps): void {
  const workloads = ops.workloads ?? [];

  g.add({
    method: 'get',
    path: '/workloads',
    tags: ['workloads'],
    summary: 'Registered workloads: step kinds, policy keys, summary sections, console pages, routes',
    auth: 'read',
    responses: { 200: { description: 'Workloads', schema: z.object({ items: z.array(z.object({ name: z.string() }).loose()) }) } },
    handler: () => ({
      items: workloads.map((w) => ({
        name: w.name,
        stepKinds: (w.stepKinds ?? []).map((k) => k.kind),
        policyKeys: (w.policyKeys ?? []).map((p) => p.key),
        summarySections: (w.summarySections ?? []).map((s) => s.key),
        consolePages: w.consolePages ?? [],
        routes: (w.routes?.(ops) ?? []).map((r) => ({ method: r.method.toUpperCase(), path: `/api/ops${r.path}`, summary: r.summary })),
      })),
    }),
  });

  for (const route of routesOf(workloads, ops)) {
    g.add({
      method: route.method,
      path: route.path,
      tags: [`workload:${route.workload}`],
      summary: route.summary,
      auth: route.auth ?? (route.method === 'get' ? 'read' : 'write'),
      params: asObject(route.params),
      query: asObject(route.query),
      body: route.body,
      responses: { [route.status ?? 200]: { description: route.summary } },
      handler: async (input, _req, res) => {
        const result = await route.handle(input);
        if (result === undefined) res.status(route.status ?? 204).end();
        else res.status(route.status ?? 200);
        return result;
      },
    });
  }
}

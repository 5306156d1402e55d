import { z } from 'zod';
import {
  deleteStepKind,
  getCatalogEntry,
  kindNameSchema,
  listCatalog,
  registerKindInputSchema,
  registerStepKind,
  stepKindInputSchema,
  updateStepKind,
  type OpsDeps,
  type ProposalDeps,
} from '@opsloop/ops';
import type { RouteGroup } from '../http/route.ts';

const nameParams = z.object({ name: kindNameSchema });
const entry = z.object({}).loose();
// registerStepKind / updateStepKind validate the body themselves (and the JSON Schema in it).
const validatedByDomain = z.unknown();

/** The step catalogue: every kind with its params as JSON Schema; operators register external kinds. */
export function catalogRoutes(g: RouteGroup, ops: OpsDeps & ProposalDeps): void {
  g.add({
    method: 'get',
    path: '/catalog',
    tags: ['catalog'],
    summary: 'Every step kind with its skill, executor, timeout, max attempts and params as JSON Schema',
    auth: 'read',
    responses: { 200: { description: 'The catalogue', schema: z.object({ items: z.array(entry) }) } },
    handler: async () => ({ items: await listCatalog(ops) }),
  });
  g.add({
    method: 'get',
    path: '/catalog/kinds/:name',
    tags: ['catalog'],
    summary: 'One step kind',
    auth: 'read',
    params: nameParams,
    responses: { 200: { description: 'The kind', schema: z.object({ kind: entry }) }, 404: { description: 'not_found' } },
    handler: async ({ params }) => ({ kind: await getCatalogEntry(ops, params.name) }),
  });
  g.add({
    method: 'post',
    path: '/catalog/kinds',
    tags: ['catalog'],
    summary: 'Register an external step kind (params as JSON Schema)',
    auth: 'write',
    body: registerKindInputSchema,
    bodyCheck: validatedByDomain,
    responses: { 201: { description: 'Registered', schema: z.object({ kind: entry }) }, 409: { description: 'conflict: the kind exists' } },
    handler: async ({ body }, _req, res) => {
      res.status(201);
      return { kind: await registerStepKind(ops, body) };
    },
  });
  g.add({
    method: 'put',
    path: '/catalog/kinds/:name',
    tags: ['catalog'],
    summary: 'Change a registered step kind',
    auth: 'write',
    params: nameParams,
    body: stepKindInputSchema,
    bodyCheck: validatedByDomain,
    responses: { 200: { description: 'Changed', schema: z.object({ kind: entry }) }, 404: { description: 'not_found' }, 409: { description: 'conflict: defined in code' } },
    handler: async ({ params, body }) => ({ kind: await updateStepKind(ops, params.name, body) }),
  });
  g.add({
    method: 'delete',
    path: '/catalog/kinds/:name',
    tags: ['catalog'],
    summary: 'Remove a registered step kind',
    auth: 'write',
    params: nameParams,
    responses: { 204: { description: 'Removed' }, 404: { description: 'not_found' }, 409: { description: 'conflict: defined in code' } },
    handler: async ({ params }, _req, res) => {
      await deleteStepKind(ops, params.name);
      res.status(204).end();
    },
  });
}

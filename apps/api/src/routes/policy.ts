import { z } from 'zod';
import { listPolicy, updatePolicy, type ProposalDeps } from '@opsloop/ops';
import type { RouteGroup } from '../http/route.ts';

const row = z.object({}).loose();

export function policyRoutes(g: RouteGroup, ops: ProposalDeps): void {
  g.add({
    method: 'get',
    path: '/policy',
    tags: ['policy'],
    summary: 'Every policy key with its value',
    auth: 'read',
    responses: { 200: { description: 'Policy rows', schema: z.object({ items: z.array(row) }) } },
    handler: async () => ({ items: await listPolicy(ops) }),
  });

  g.add({
    method: 'put',
    path: '/policy/:key',
    tags: ['policy'],
    summary: "Write one policy key, validated by the key's schema (writes policy:changed)",
    auth: 'write',
    params: z.object({ key: z.string().min(1).max(100) }),
    body: z.object({ value: z.json(), changedBy: z.string().max(100).optional() }).strict(),
    responses: { 200: { description: 'The new row', schema: z.object({ policy: row }) }, 404: { description: 'not_found: unknown key' } },
    handler: async ({ params, body }) => ({ policy: await updatePolicy(ops, params.key, body.value, body.changedBy) }),
  });
}

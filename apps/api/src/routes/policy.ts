import { z } from 'zod';
import { jsonDiff, storedJson, storedString } from '@opsloop/core';
import { checkPolicyValue, listPolicy, updatePolicy, type ProposalDeps } from '@opsloop/ops';
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
    params: z.object({ key: storedString().min(1).max(100) }),
    body: z.object({ value: storedJson(), changedBy: storedString().max(100).optional() }).strict(),
    responses: { 200: { description: 'The new row', schema: z.object({ policy: row }) }, 404: { description: 'not_found: unknown key' } },
    handler: async ({ params, body }) => ({ policy: await updatePolicy(ops, params.key, body.value, body.changedBy) }),
  });

  g.add({
    method: 'post',
    path: '/policy/:key/check',
    tags: ['policy'],
    summary: "Check a value against the key's schema without saving it; answers what would change",
    description: 'The same validation as PUT /policy/:key (400 naming each wrong field), nothing written. `changes` lists each changed leaf against the stored value.',
    auth: 'write',
    params: z.object({ key: storedString().min(1).max(100) }),
    body: z.object({ value: storedJson() }).strict(),
    responses: {
      200: {
        description: 'Valid: the value as it would be stored and the changes',
        schema: z.object({ key: z.string(), valid: z.literal(true), value: z.json(), changes: z.array(z.object({ path: z.string(), kind: z.enum(['added', 'removed', 'changed']) }).loose()) }),
      },
    },
    handler: async ({ params, body }) => {
      const { value } = await checkPolicyValue(ops, params.key, body.value);
      const stored = await ops.prisma.opsPolicy.findUnique({ where: { key: params.key }, select: { value: true } });
      return { key: params.key, valid: true as const, value, changes: jsonDiff(stored?.value ?? undefined, value) };
    },
  });
}

import { z } from 'zod';
import { NotFoundError } from '@opsloop/core';
import { listStepRuns, type ProposalDeps } from '@opsloop/ops';
import type { RouteGroup } from '../http/route.ts';
import { idParams } from './proposals.ts';

/** Every attempt of a mission's steps, for the console's mission page and for scripts. */
export function stepRunRoutes(g: RouteGroup, ops: Pick<ProposalDeps, 'prisma'>): void {
  g.add({
    method: 'get',
    path: '/missions/:id/runs',
    tags: ['missions'],
    summary: "Every attempt of the mission's steps (ops_step_runs), oldest first",
    auth: 'read',
    params: idParams,
    responses: {
      200: { description: 'Attempts', schema: z.object({ items: z.array(z.object({}).loose()) }) },
      404: { description: 'not_found' },
    },
    handler: async ({ params }) => {
      const mission = await ops.prisma.opsMission.findUnique({ where: { id: params.id }, select: { id: true } });
      if (!mission) throw new NotFoundError('mission');
      return { items: await listStepRuns(ops.prisma, params.id) };
    },
  });
}

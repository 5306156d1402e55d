import { z } from 'zod';
import type { Scheduler } from '@opsloop/ops';
import type { RouteGroup } from '../http/route.ts';

export function scheduleRoutes(g: RouteGroup, deps: { scheduler?: Pick<Scheduler, 'status'> }): void {
  g.add({
    method: 'get',
    path: '/schedule',
    tags: ['schedule'],
    summary: 'Scheduled jobs with last run, outcome and next run',
    auth: 'read',
    responses: { 200: { description: 'Jobs (none when SCHEDULER_ENABLED=false)', schema: z.object({ enabled: z.boolean(), jobs: z.array(z.object({}).loose()) }) } },
    handler: async () => ({ enabled: Boolean(deps.scheduler), jobs: deps.scheduler ? await deps.scheduler.status() : [] }),
  });
}

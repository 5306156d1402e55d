import { z } from 'zod';
import { migrationStatus, type Database } from '@opsloop/db';
import type { RouteGroup } from '../http/route.ts';

export interface Readiness {
  /** undefined when ready; otherwise why not (e.g. "starting", "shutting down"). */
  notReadyReason(): string | undefined;
}

const readiness = z.object({ status: z.enum(['ready', 'unavailable']), checks: z.record(z.string(), z.unknown()) });

export function healthRoutes(g: RouteGroup, deps: { db: Database; readiness: Readiness }): void {
  // Liveness: the process answers. Never touches the database, so a database outage
  // does not get healthy processes restarted.
  g.add({
    method: 'get',
    path: '/health',
    tags: ['health'],
    summary: 'Liveness: the process answers (no database)',
    auth: 'public',
    responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
    handler: () => ({ status: 'ok' }),
  });

  // Readiness: this instance can serve traffic now.
  g.add({
    method: 'get',
    path: '/ready',
    tags: ['health'],
    summary: 'Readiness: the database answers and migrations are current',
    auth: 'public',
    responses: { 200: { description: 'Ready', schema: readiness }, 503: { description: 'Starting, draining, database unreachable or migrations pending', schema: readiness } },
    handler: async (_input, _req, res) => {
      const reason = deps.readiness.notReadyReason();
      if (reason) {
        res.status(503);
        return { status: 'unavailable', checks: { process: reason } };
      }
      try {
        const migrations = await migrationStatus((sql) => deps.db.pool.query(sql));
        if (!migrations.upToDate) {
          res.status(503);
          return { status: 'unavailable', checks: { database: 'ok', migrations } };
        }
        return { status: 'ready', checks: { database: 'ok', migrations } };
      } catch {
        res.status(503);
        return { status: 'unavailable', checks: { database: 'unreachable' } };
      }
    },
  });
}

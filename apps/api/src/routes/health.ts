import { Router } from 'express';
import { migrationStatus, type Database } from '@opsloop/db';

export interface Readiness {
  /** undefined when ready; otherwise why not (e.g. "starting", "shutting down"). */
  notReadyReason(): string | undefined;
}

export function healthRoutes(deps: { db: Database; readiness: Readiness }): Router {
  const router = Router();

  // Liveness: the process answers. Never touches the database, so a database outage
  // does not get healthy processes restarted.
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Readiness: this instance can serve traffic now.
  router.get('/ready', async (_req, res) => {
    const reason = deps.readiness.notReadyReason();
    if (reason) {
      res.status(503).json({ status: 'unavailable', checks: { process: reason } });
      return;
    }
    try {
      const migrations = await migrationStatus((sql) => deps.db.pool.query(sql));
      if (!migrations.upToDate) {
        res.status(503).json({ status: 'unavailable', checks: { database: 'ok', migrations } });
        return;
      }
      res.json({ status: 'ready', checks: { database: 'ok', migrations } });
    } catch {
      res.status(503).json({ status: 'unavailable', checks: { database: 'unreachable' } });
    }
  });

  return router;
}

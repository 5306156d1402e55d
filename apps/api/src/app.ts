import express, { type Express } from 'express';
import type { Config, Logger } from '@opsloop/core';
import type { Database } from '@opsloop/db';
import type { HeartbeatDeps, OpsDeps, OpsMetrics, ProposalDeps, Scheduler } from '@opsloop/ops';
import { errorHandler, notFound, requireJsonBody } from './http/errors.ts';
import { authFailureThrottle, requireToken, type AuthTokens } from './http/auth.ts';
import { requestLogger } from './http/requestLog.ts';
import { securityHeaders } from './http/securityHeaders.ts';
import { healthRoutes, type Readiness } from './routes/health.ts';
import { proposalRoutes } from './routes/proposals.ts';
import { missionRoutes } from './routes/missions.ts';
import { policyRoutes } from './routes/policy.ts';
import { stepRoutes } from './routes/steps.ts';
import { heartbeatRoutes, opsReportRoutes } from './routes/heartbeat.ts';
import { backupRoutes, httpMetrics, metricsRoute, rememberRouteBase, type BackupApi } from './routes/observability.ts';
import { workloadRouter } from './routes/workloads.ts';
import { catalogRoutes } from './routes/catalog.ts';

export interface AppDeps {
  db: Database;
  logger: Logger;
  config: Pick<Config, 'BODY_LIMIT'> & Partial<Pick<Config, 'TRUST_PROXY' | 'AUTH_FAILURES_PER_MINUTE'>>;
  tokens: AuthTokens;
  /** Lets /ready answer 503 while the process starts up or drains. */
  readiness: Readiness;
  ops: OpsDeps & ProposalDeps;
  heartbeat: HeartbeatDeps;
  /** Absent when SCHEDULER_ENABLED=false: GET /api/ops/schedule then lists nothing. */
  scheduler?: Pick<Scheduler, 'status'>;
  /** Prometheus metrics; GET /metrics is absent without them. */
  metrics?: OpsMetrics;
  /** METRICS_TOKEN: unset, /metrics answers loopback callers only. */
  metricsToken?: string;
  /** POST/GET /api/ops/backups. */
  backups?: BackupApi;
}

/** Builds the HTTP app from its dependencies; service.ts wires the real ones. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Off by default: behind no proxy, X-Forwarded-For is whatever the client wrote, and
  // req.ip keys the auth throttle.
  app.set('trust proxy', deps.config.TRUST_PROXY ?? false);
  if (deps.metrics) app.use(httpMetrics(deps.metrics));
  app.use(securityHeaders());
  app.use(requestLogger(deps.logger));
  app.use(healthRoutes(deps));
  if (deps.metrics) app.use(metricsRoute(deps.metrics, deps.metricsToken));

  // Every /api/ops route needs the API token (reads too: they expose operations data);
  // the heartbeat also takes its own token. Authenticate before parsing the body, so an
  // unauthenticated caller cannot make us read 1 MB of JSON. Every route parses a JSON
  // body if one is sent (GETs too), so a bad one is a 4xx everywhere, never ignored on some.
  const api = express.Router();
  api.use(rememberRouteBase);
  const heartbeatCall = (req: express.Request) => (req.method === 'POST' && req.path === '/heartbeat' ? 'heartbeat' : 'api');
  api.use(requireToken(deps.tokens, heartbeatCall, authFailureThrottle(deps.config.AUTH_FAILURES_PER_MINUTE ?? 20)));
  api.use(requireJsonBody);
  api.use(express.json({ limit: deps.config.BODY_LIMIT, type: 'application/json' }));
  api.use(heartbeatRoutes(deps.heartbeat));
  api.use(proposalRoutes(deps.ops));
  api.use(missionRoutes(deps.ops));
  api.use(policyRoutes(deps.ops));
  api.use(stepRoutes(deps.ops));
  api.use(opsReportRoutes(deps.heartbeat));
  if (deps.backups) api.use(backupRoutes(deps.backups));
  api.get('/schedule', async (_req, res) => {
    res.json({ enabled: Boolean(deps.scheduler), jobs: deps.scheduler ? await deps.scheduler.status() : [] });
  });
  api.use(catalogRoutes(deps.ops));
  api.use(workloadRouter(deps.ops));
  app.use('/api/ops', api);

  app.use(notFound);
  app.use(errorHandler);
  return app;
}

import express, { type Express } from 'express';
import type { Config, Logger } from '@opsloop/core';
import type { Database } from '@opsloop/db';
import type { HeartbeatDeps, OpsDeps, OpsMetrics, ProposalDeps, Scheduler } from '@opsloop/ops';
import { errorHandler, notFound } from './http/errors.ts';
import { authFailureThrottle, requireToken, type AuthTokens } from './http/auth.ts';
import { securityHeaders } from './http/securityHeaders.ts';
import { RouteRegistry } from './http/route.ts';
import { buildOpenApi } from './http/openapi.ts';
import { docsRoutes } from './http/docs.ts';
import { requestLogger } from './http/requestLog.ts';
import { healthRoutes, type Readiness } from './routes/health.ts';
import { scheduleRoutes } from './routes/schedule.ts';
import { controlRoutes } from './routes/control.ts';
import { slackRoutes, type SlackOptions } from './routes/slack.ts';
import { eventStreamRoutes, type EventStreamOptions } from './routes/eventStream.ts';
import { proposalRoutes } from './routes/proposals.ts';
import { missionRoutes } from './routes/missions.ts';
import { policyRoutes } from './routes/policy.ts';
import { stepRoutes } from './routes/steps.ts';
import { heartbeatRoutes } from './routes/heartbeat.ts';
import { stepRunRoutes } from './routes/stepRuns.ts';
import { consoleGateway, consoleRoutes, type ConsoleOptions } from './console/router.ts';
import { workloadRoutes } from './routes/workloads.ts';
import { backupRoutes, httpMetrics, metricsRoute, type BackupApi } from './routes/observability.ts';
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
  scheduler?: Pick<Scheduler, 'status' | 'runNow'>;
  /** Prometheus metrics; GET /metrics is absent without them. */
  metrics?: OpsMetrics;
  /** METRICS_TOKEN: unset, /metrics answers loopback callers only. */
  metricsToken?: string;
  /** POST/GET /api/ops/backups. */
  backups?: BackupApi;
  /** The live event stream's horizon and limits; without it the stream answers 503. */
  eventStream?: EventStreamOptions;
  /** The operator console at /console: the optional read-only token and workloads' pages. */
  console?: Omit<ConsoleOptions, 'apiToken'>;
  slack?: SlackOptions;
}

const API_VERSION = '0.1.0';

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
  // Every /api/ops route needs the API token (reads too: they expose operations data);
  // the heartbeat also takes its own token; Slack's route its signature instead.
  const throttle = authFailureThrottle(deps.config.AUTH_FAILURES_PER_MINUTE ?? 20);
  const registry = new RouteRegistry(deps.tokens, deps.config.BODY_LIMIT, throttle);
  const root = registry.router();
  healthRoutes(root, deps);
  if (deps.metrics) metricsRoute(root, deps.metrics, deps.metricsToken);
  const api = registry.router('/api/ops');
  heartbeatRoutes(api, deps.heartbeat);
  proposalRoutes(api, deps.ops);
  // Before missionRoutes: /events/stream must not be taken for /events/:id.
  eventStreamRoutes(api, deps.ops, deps.eventStream ?? {});
  missionRoutes(api, deps.ops);
  policyRoutes(api, deps.ops);
  stepRoutes(api, deps.ops);
  stepRunRoutes(api, deps.ops);
  scheduleRoutes(api, deps);
  controlRoutes(api, deps.ops, deps);
  slackRoutes(api, deps.ops, deps.slack ?? {});
  catalogRoutes(api, deps.ops);
  workloadRoutes(api, deps.ops);
  if (deps.backups) backupRoutes(api, deps.backups);

  // Built once, on first request, after every route above has registered.
  let document: Record<string, unknown> | undefined;
  root.add({
    method: 'get',
    path: '/api/openapi.json',
    tags: ['meta'],
    summary: 'This OpenAPI 3.1 document',
    auth: 'public',
    responses: { 200: { description: 'OpenAPI 3.1 document', contentType: 'application/json' } },
    handler: () => (document ??= buildOpenApi(registry.routes, { title: 'opsloop API', version: API_VERSION, description: 'Closed-loop operations API. Interactive reference at /docs.' })),
  });

  // Workloads add console pages the same way they add routes: by registering them.
  const workloadPages = (deps.ops.workloads ?? []).flatMap((w) => w.consolePages ?? []);
  const consoleOptions = { apiToken: deps.tokens.apiToken, loginThrottle: throttle, ...deps.console, pages: [...workloadPages, ...(deps.console?.pages ?? [])] };
  app.use(consoleGateway(consoleOptions));
  app.use(consoleRoutes(consoleOptions));
  app.use(root.express);
  app.use(api.express);
  app.use(docsRoutes());
  // An unknown /api/ops path answers 401 to a caller without the token, so the API's
  // shape is not probed anonymously; with the token it is a 404.
  app.use('/api/ops', requireToken(deps.tokens, 'api', throttle));

  app.use(notFound);
  app.use(errorHandler);
  return app;
}

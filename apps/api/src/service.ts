import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { systemClock, type Clock, type Config, type Logger } from '@opsloop/core';
import { createDatabase, migrate, seed, startEmbeddedPostgres, type Database, type EmbeddedPostgres } from '@opsloop/db';
import {
  createEventHorizon,
  slackMessageSink,
  startApprovalNotifier,
  slackSink,
  createLlmClient,
  promoteInsights,
  createOpsDeps,
  type PhaseContext,
  type Scheduler,
  type WakeTimers,
  createWorker,
  listenForCatalogChanges,
  listenForSteps,
  opsHandlers,
  workloadHandlers,
  type Worker,
  createOpsMetrics,
  createSystemSampler,
  pruneRetention,
} from '@opsloop/ops';
import { backupStatus, databaseReadiness, destinationFromConfig, runBackup, type BackupDeps } from '@opsloop/backup';
import { assertPinnedBaseUrl, moltbookWorkload } from '@opsloop/moltbook';
import { createApp } from './app.ts';
import { releaseStartupMemory } from './releaseStartupMemory.ts';
import { buildScheduler, loadSchedule } from './schedule.ts';
import { resolveTokens } from './tokens.ts';

export interface RunningService {
  server: Server;
  db: Database;
  url: string;
  scheduler?: Scheduler;
  /** Stops taking work, drains in-flight requests, then closes the database. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts everything one opsloop process runs: database (embedded when DATABASE_URL is
 * unset), migrations, seeds, HTTP API. Later capabilities (workers, scheduler) hang
 * off the same start/stop sequence.
 */
export async function startService(config: Config, logger: Logger, overrides: { clock?: Clock; schedulerTimers?: WakeTimers } = {}): Promise<RunningService> {
  let phase: 'starting' | 'ready' | 'shutting down' = 'starting';
  // Refused before anything starts: the bare host redirects and drops the key; a broken
  // schedule names its line.
  assertPinnedBaseUrl(config.MOLTBOOK_BASE_URL);
  const jobs = config.SCHEDULER_ENABLED ? await loadSchedule(config) : [];
  let embedded: EmbeddedPostgres | undefined;
  if (!config.DATABASE_URL) {
    embedded = await startEmbeddedPostgres({ dataDir: `${config.DATA_DIR}/postgres`, port: config.EMBEDDED_PG_PORT, logger, rootFallbackDir: config.EMBEDDED_PG_ROOT_DIR });
    logger.info({ dataDir: embedded.dataDir }, `embedded PostgreSQL ready: psql ${embedded.url}`);
  }
  const url = config.DATABASE_URL ?? embedded!.url;
  try {
    if (config.MIGRATE_ON_START) {
      const result = await migrate(url, { logger });
      if (result.applied.length) logger.info(result, 'migrations applied');
      await seed(url, logger);
    }
  } catch (error) {
    await embedded?.stop();
    throw error;
  }

  const db = createDatabase({ url, poolSize: config.DATABASE_POOL_SIZE });
  const tokens = await resolveTokens(config, logger);
  const clock = overrides.clock ?? systemClock;
  // Undefined without OPENAI_API_KEY: insight promotion then uses its extractive
  // fallback and replies use the template.
  const llm = createLlmClient({ apiKey: config.OPENAI_API_KEY, baseUrl: config.OPENAI_BASE_URL, model: config.OPENAI_MODEL, logger: logger.child({ component: 'llm' }) });
  // The workloads this service ships; each registers itself with the core.
  const workloads = [
    moltbookWorkload(
      config.MOLTBOOK_API_KEY
        ? {
            apiKey: config.MOLTBOOK_API_KEY,
            baseUrl: config.MOLTBOOK_BASE_URL,
            watchPostIds: config.MOLTBOOK_WATCH_POST_IDS,
            maxRepliesPerRun: config.MOLTBOOK_REPLY_MAX_PER_RUN,
            outputDir: config.MOLTBOOK_OUTPUT_DIR,
            workerId: `${hostname()}:${process.pid}`,
            llm,
            logger,
          }
        : undefined,
    ),
  ];
  const metrics = createOpsMetrics({ pool: db.pool, clock });
  const ops = createOpsDeps({ db, clock, logger, timeZone: config.OPS_TIMEZONE, workloads, observer: metrics.observer });
  for (const workload of workloads) workload.metrics?.(metrics.registry, ops);
  const destination = destinationFromConfig(config);
  const backupDeps: BackupDeps = {
    pool: db.pool,
    clock,
    logger,
    destination,
    keep: config.BACKUP_KEEP,
    readiness: databaseReadiness(db.pool, () => (phase === 'ready' ? undefined : phase)),
  };
  // Registered kinds are cached only while this connection hears every change to them.
  const catalogListener = listenForCatalogChanges(url, logger, ops.catalog.registered!);
  const heartbeat = {
    ...ops,
    pool: db.pool,
    heartbeatWindowMinutes: config.HEARTBEAT_WINDOW_MINUTES,
    promoteInsights: (ctx: PhaseContext) => promoteInsights({ ...ops, llm }, { signal: ctx.signal }),
    sink: config.SLACK_WEBHOOK_URL ? slackSink(config.SLACK_WEBHOOK_URL) : undefined,
  };
  const scheduler = config.SCHEDULER_ENABLED
    ? buildScheduler(jobs, config, heartbeat, logger, {
        timers: overrides.schedulerTimers,
        housekeeping: {
          // Not ready (still starting, migrations pending, database down): recorded as
          // skipped with the reason; the next tick tries again.
          backup: (signal) => runBackup(backupDeps, { triggeredBy: 'schedule', waitMs: 0, onNotReady: 'skip', signal }),
          retention: (signal) => pruneRetention({ ...ops, pool: db.pool, archive: destination }, { signal }),
        },
      })
    : undefined;
  const horizon = createEventHorizon({ pool: db.pool, url, logger });
  const app = createApp({
    db,
    eventStream: { horizon, maxStreams: config.EVENT_STREAM_MAX },
    slack: { signingSecret: config.SLACK_SIGNING_SECRET },
    logger,
    config,
    tokens,
    ops,
    heartbeat,
    scheduler,
    readiness: { notReadyReason: () => (phase === 'ready' ? undefined : phase) },
    console: { viewerToken: config.OPS_VIEWER_TOKEN },
    metrics,
    metricsToken: config.METRICS_TOKEN,
    backups: {
      run: (triggeredBy) => runBackup(backupDeps, { triggeredBy, waitMs: 30_000, onNotReady: 'throw' }),
      status: () => backupStatus(db.pool),
    },
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.PORT, config.HOST, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  // While draining, every response closes its connection: keep-alive clients reconnect
  // (to another replica) instead of holding this process open until the grace runs out.
  server.prependListener('request', (_req, res) => {
    if (phase === 'shutting down') res.setHeader('connection', 'close');
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  let worker: Worker | undefined;
  let listener: { close(): Promise<void> } | undefined;
  if (config.WORKERS_ENABLED) {
    const handlers = new Map([...opsHandlers(() => clock.now()), ...workloadHandlers(workloads, ops)]);
    worker = createWorker({ deps: ops, handlers, concurrency: config.WORKER_CONCURRENCY, pollMs: config.WORKER_POLL_MS });
    listener = listenForSteps(url, logger, () => worker!.wake());
    worker.start();
  }
  const sampler = createSystemSampler({
    prisma: db.prisma,
    clock,
    logger,
    intervalMs: config.SYSTEM_METRICS_INTERVAL_MS,
    activeSteps: () => worker?.running() ?? 0,
    httpWindow: metrics.httpWindow,
  });
  sampler.start();
  // Not awaited: the start-up catch-up runs in the background.
  void scheduler?.start();
  // Pending proposals that wait for a person go to Slack with Approve / Reject buttons.
  const approvals = config.SLACK_WEBHOOK_URL
    ? startApprovalNotifier({ ...ops, logger: logger.child({ component: 'slack-approvals' }), sink: slackMessageSink(config.SLACK_WEBHOOK_URL) }, horizon)
    : undefined;
  releaseStartupMemory();
  phase = 'ready';
  logger.info({ port }, 'opsloop API listening');

  // The order matters: stop taking work first (readiness, listener, claims, ticks), let
  // what is in flight finish within the grace period, release what did not, and close
  // the database last so nothing in flight loses it.
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      phase = 'shutting down';
      const started = Date.now();
      logger.info({ graceMs: config.SHUTDOWN_GRACE_MS }, 'shutting down: /ready is 503, no new connections, draining requests, steps and scheduled jobs');
      // Live event streams never end by themselves: close them so the server can drain.
      await approvals?.stop();
      await horizon.close();
      await Promise.all([closeServer(server, config.SHUTDOWN_GRACE_MS), worker?.stop(config.SHUTDOWN_GRACE_MS), scheduler?.stop(config.SHUTDOWN_GRACE_MS)]);
      await listener?.close();
      await catalogListener.close();
      await sampler.stop();
      await db.close();
      await embedded?.stop();
      logger.info({ durationMs: Date.now() - started }, 'drained: requests finished, leases settled, database closed');
    })());

  return { server, db, url: `http://127.0.0.1:${port}`, scheduler, stop };
}

/** Stops accepting connections, lets in-flight requests finish, then cuts what is left. */
function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

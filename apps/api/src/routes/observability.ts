import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { AppError, UnauthorizedError } from '@opsloop/core';
import type { OpsMetrics } from '@opsloop/ops';
import type { BackupRunResult, BackupStatus } from '@opsloop/backup';
import { parse } from '../http/validate.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const digest = (v: string) => createHash('sha256').update(v).digest();

/**
 * Times every request into opsloop_http_request_duration_seconds by route template
 * (`/api/ops/missions/:id`, never the raw path; `unmatched` for 404s). Counters only: no
 * I/O on the request path.
 */
export function httpMetrics(metrics: OpsMetrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const route = req.route?.path === undefined ? 'unmatched' : `${(res.locals.routeBase as string | undefined) ?? req.baseUrl}${String(req.route.path)}`;
      metrics.observeHttp(req.method, route, res.statusCode, (performance.now() - started) / 1000);
    });
    next();
  };
}

/** Remembers the mount path of a router for httpMetrics (Express resets baseUrl when an error leaves it). */
export const rememberRouteBase: RequestHandler = (req, res, next) => {
  res.locals.routeBase ??= req.baseUrl;
  next();
};

/**
 * GET /metrics: with METRICS_TOKEN set, only `Authorization: Bearer <token>`; without it,
 * only callers on loopback (the socket's address: X-Forwarded-For cannot fake it).
 */
export function metricsRoute(metrics: OpsMetrics, token: string | undefined): Router {
  const router = Router();
  router.get('/metrics', async (req, res) => {
    if (token) {
      const presented = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
      if (!presented || !timingSafeEqual(digest(presented), digest(token))) throw new UnauthorizedError();
    } else if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) {
      throw new AppError(403, 'forbidden', '/metrics is open on loopback only; set METRICS_TOKEN to scrape it from elsewhere');
    }
    const { contentType, body } = await metrics.scrape();
    res.setHeader('content-type', contentType);
    res.send(body);
  });
  return router;
}

export interface BackupApi {
  /** Runs a backup now (waits up to 30 s for readiness, then 503). */
  run(triggeredBy: string): Promise<BackupRunResult>;
  status(): Promise<BackupStatus>;
}

export function backupRoutes(backups: BackupApi): Router {
  const router = Router();
  router.get('/backups', async (_req, res) => {
    res.json(await backups.status());
  });
  router.post('/backups', async (req, res) => {
    parse(z.object({}).strict(), req.body, 'body');
    const result = await backups.run(`api:${req.ip ?? 'unknown'}`);
    if (result.status !== 'succeeded') {
      res.status(503).json({ error: { code: 'not_ready', message: `backup not started: ${result.reason}`, requestId: req.id } });
      return;
    }
    const { manifest, ...rest } = result;
    res.status(201).json({ ...rest, schemaVersion: manifest.schemaVersion, totalRows: manifest.totalRows, durationMs: manifest.durationMs, tables: manifest.tables.map((t) => ({ name: t.name, rows: t.rows, sha256: t.sha256 })) });
  });
  return router;
}

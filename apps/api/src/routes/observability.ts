import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { AppError, UnauthorizedError } from '@opsloop/core';
import type { OpsMetrics } from '@opsloop/ops';
import type { BackupRunResult, BackupStatus } from '@opsloop/backup';
import type { RouteGroup } from '../http/route.ts';

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
      // Routes are registered with their full path (RouteRegistry), so the template is whole.
      const route = req.route?.path === undefined ? 'unmatched' : `${req.baseUrl}${String(req.route.path)}`;
      metrics.observeHttp(req.method, route, res.statusCode, (performance.now() - started) / 1000);
    });
    next();
  };
}

/**
 * GET /metrics: with METRICS_TOKEN set, only `Authorization: Bearer <token>`; without it,
 * only callers on loopback (the socket's address: X-Forwarded-For cannot fake it).
 */
export function metricsRoute(g: RouteGroup, metrics: OpsMetrics, token: string | undefined): void {
  g.add({
    method: 'get',
    path: '/metrics',
    tags: ['observability'],
    summary: 'Prometheus metrics (text exposition format)',
    description: 'With METRICS_TOKEN set: bearer token required. Without it: loopback callers only.',
    auth: 'public',
    responses: { 200: { description: 'Prometheus text format', contentType: 'text/plain' }, 401: { description: 'Wrong or missing METRICS_TOKEN' }, 403: { description: 'Not on loopback and no METRICS_TOKEN configured' } },
    handler: async (_input, req, res) => {
      if (token) {
        const presented = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
        if (!presented || !timingSafeEqual(digest(presented), digest(token))) throw new UnauthorizedError();
      } else if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) {
        throw new AppError(403, 'forbidden', '/metrics is open on loopback only; set METRICS_TOKEN to scrape it from elsewhere');
      }
      const { contentType, body } = await metrics.scrape();
      res.setHeader('content-type', contentType);
      res.send(body);
    },
  });
}

export interface BackupApi {
  /** Runs a backup now (waits up to 30 s for readiness, then 503). */
  run(triggeredBy: string): Promise<BackupRunResult>;
  status(): Promise<BackupStatus>;
}

export function backupRoutes(g: RouteGroup, backups: BackupApi): void {
  g.add({
    method: 'get',
    path: '/backups',
    tags: ['backups'],
    summary: 'Backups: the last successful one (time, size, destination) and recent runs',
    auth: 'read',
    responses: { 200: { description: 'Backup status', schema: z.object({}).loose() } },
    handler: () => backups.status(),
  });
  g.add({
    method: 'post',
    path: '/backups',
    tags: ['backups'],
    summary: 'Take a backup now (waits up to 30 s for readiness, then 503)',
    auth: 'write',
    body: z.object({}).strict().optional(),
    responses: { 201: { description: 'The backup written', schema: z.object({}).loose() }, 503: { description: 'not_ready: the service did not become ready in time' } },
    handler: async (_input, req, res) => {
      const result = await backups.run(`api:${req.ip ?? 'unknown'}`);
      if (result.status !== 'succeeded') {
        res.status(503).json({ error: { code: 'not_ready', message: `backup not started: ${result.reason}`, requestId: req.id } });
        return;
      }
      const { manifest, ...rest } = result;
      res.status(201).json({ ...rest, schemaVersion: manifest.schemaVersion, totalRows: manifest.totalRows, durationMs: manifest.durationMs, tables: manifest.tables.map((t) => ({ name: t.name, rows: t.rows, sha256: t.sha256 })) });
    },
  });
}

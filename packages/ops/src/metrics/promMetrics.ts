import type pg from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '@opsloop/core';
import { cachedDatabaseSnapshot } from './databaseGauges.ts';
import { HTTP_BUCKETS, HttpWindow } from './httpWindow.ts';
import type { OpsObserver } from './observer.ts';

const STEP_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];
const DELAY_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 900, 3600];

export interface OpsMetrics {
  /** Workloads register their own metrics here (the workload interface's `metrics` hook). */
  registry: Registry;
  /** Hand to createOpsDeps({ observer }). */
  observer: OpsObserver;
  /** One finished HTTP request; `route` is the route template, never the raw path. */
  observeHttp(method: string, route: string, status: number, seconds: number): void;
  /** Requests since the previous system sample. */
  httpWindow: HttpWindow;
  /** The text exposition. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

/**
 * Every opsloop metric (names are a contract with dashboards: see the README). Counters
 * and histograms are per process (Prometheus sums replicas); gauges describing the shared
 * database come from one cached query (`cacheMs`).
 */
export function createOpsMetrics(o: { pool: pg.Pool; clock: Clock; cacheMs?: number; processMetrics?: boolean }): OpsMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (o.processMetrics !== false) collectDefaultMetrics({ register: registry });

  const stepDuration = new Histogram({ name: 'opsloop_step_duration_seconds', help: 'Step attempt duration, claim to end', labelNames: ['kind', 'outcome'], buckets: STEP_BUCKETS, registers });
  const startDelay = new Histogram({ name: 'opsloop_step_start_delay_seconds', help: 'From run_after (claimable) to claim', labelNames: ['kind'], buckets: DELAY_BUCKETS, registers });
  const attempts = new Counter({ name: 'opsloop_step_attempts_total', help: 'Finished step attempts', labelNames: ['kind', 'outcome'], registers });
  const leaseExpiries = new Counter({ name: 'opsloop_lease_expiries_total', help: 'Leases recovered after expiry', registers });
  const proposals = new Counter({ name: 'opsloop_proposals_total', help: 'New proposals by source and decided status', labelNames: ['source', 'status'], registers });
  const phaseDuration = new Histogram({ name: 'opsloop_heartbeat_phase_duration_seconds', help: 'Heartbeat phase duration', labelNames: ['phase'], buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30], registers });
  const phaseErrors = new Counter({ name: 'opsloop_heartbeat_phase_errors_total', help: 'Heartbeat phases that failed', labelNames: ['phase'], registers });
  const alerts = new Counter({ name: 'opsloop_alerts_total', help: 'Alert delivery attempts', labelNames: ['kind', 'delivered'], registers });
  const llmTokens = new Counter({ name: 'opsloop_llm_tokens_total', help: 'LLM tokens spent', labelNames: ['purpose'], registers });
  const http = new Histogram({ name: 'opsloop_http_request_duration_seconds', help: 'HTTP request duration by route template', labelNames: ['method', 'route', 'status'], buckets: HTTP_BUCKETS, registers });

  const snapshot = cachedDatabaseSnapshot(o.pool, o.clock, o.cacheMs);
  const dbGauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: Awaited<ReturnType<typeof snapshot>>) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const s = await snapshot();
        this.reset();
        fill(this, s);
      },
    });
  dbGauge('opsloop_queue_depth', 'Queued steps by kind', ['kind'], (g, s) => s.queued.forEach((q) => g.set({ kind: q.kind }, q.depth)));
  dbGauge('opsloop_oldest_queued_seconds', 'Age of the oldest claimable queued step by kind', ['kind'], (g, s) =>
    s.queued.forEach((q) => g.set({ kind: q.kind }, Math.max(0, q.oldest_seconds ?? 0))),
  );
  dbGauge('opsloop_steps_running', 'Running (leased) steps by kind', ['kind'], (g, s) => s.running.forEach((r) => g.set({ kind: r.kind }, r.n)));
  dbGauge('opsloop_table_rows', 'Estimated rows per table (pg_class.reltuples)', ['table'], (g, s) => s.tables.forEach((t) => g.set({ table: t.table }, Number(t.rows))));
  dbGauge('opsloop_heartbeat_last_success_timestamp_seconds', 'End of the last completed heartbeat', [], (g, s) => {
    if (s.heartbeat_at !== null) g.set(s.heartbeat_at);
  });
  dbGauge('opsloop_backup_last_success_timestamp_seconds', 'End of the last successful backup', [], (g, s) => {
    if (s.backup_at !== null) g.set(s.backup_at);
  });

  const observer: OpsObserver = {
    stepsClaimed(steps, now) {
      for (const s of steps) startDelay.observe({ kind: s.kind }, Math.max(0, (now.getTime() - s.runAfter.getTime()) / 1000));
    },
    stepSettled(kind, outcome, seconds) {
      attempts.inc({ kind, outcome });
      if (seconds !== null) stepDuration.observe({ kind, outcome }, seconds);
    },
    leasesExpired: (n) => leaseExpiries.inc(n),
    proposalCreated: (source, status) => proposals.inc({ source, status }),
    heartbeatPhase(phase, seconds, ok) {
      phaseDuration.observe({ phase }, seconds);
      if (!ok) phaseErrors.inc({ phase });
    },
    alertDelivery: (kind, delivered) => alerts.inc({ kind, delivered: String(delivered) }),
    llmTokens: (purpose, n) => llmTokens.inc({ purpose }, n),
  };
  const httpWindow = new HttpWindow();

  return {
    registry,
    observer,
    httpWindow,
    observeHttp(method, route, status, seconds) {
      http.observe({ method, route, status: String(status) }, seconds);
      httpWindow.record(status, seconds);
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/**
 * workload   A body of work opsloop runs on behalf of agents (social-network engagement is the
 *            first). The core knows a workload only through what it registers here: step
 *            kinds with their handlers, policy keys, daily-summary sections, metrics,
 *            HTTP routes and console pages. apps/api composes the workloads it ships;
 *            adding one never touches packages/ops.
 */
import type { z } from 'zod';
import type { PrismaClient } from '@opsloop/db';
import type { StepKindDefinition } from './catalog.ts';
import type { PolicyKeyDefinition } from './policy/registry.ts';
import type { OpsDeps } from './types.ts';

/** What a workload's handlers, routes and metrics are built from. */
export type WorkloadDeps = OpsDeps & { timeZone: string };
import type { StepHandler } from './worker/worker.ts';

/** One section of the daily summary, under `key` in its JSON and as one line in Slack. */
export interface SummarySection<T = unknown> {
  /** Its key in the summary JSON; must not be one of the core's own keys. */
  key: string;
  /** The section's figures for the day [start, end) in OPS_TIMEZONE. */
  collect(db: PrismaClient, day: { start: Date; end: Date }): Promise<T>;
  /** One line for people (Slack). */
  format(value: T): string;
}

/**
 * An HTTP route, described without Express: apps/api mounts it under `/api/ops` behind the
 * API token, validates `params`, `query` and `body` with the schemas (400 in the one error
 * format) and answers `status` (Default: 200) with the JSON `handle` returns. Throw the
 * core's named errors (NotFoundError, ConflictError, …) for other answers.
 */
export interface WorkloadRoute {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Express-style path below /api/ops, e.g. `/social` or `/social/posts/:id`. */
  path: string;
  summary: string;
  /** `read` is open to read-only tokens; `write` changes state. (Default: read for GET, write otherwise) */
  auth?: 'read' | 'write';
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  status?: number;
  handle(input: { params: unknown; query: unknown; body: unknown }): Promise<unknown>;
}

/** A console page the console renders generically from the JSON at `apiPath`. */
export interface ConsolePage {
  /** URL segment: /console/<slug>. */
  slug: string;
  title: string;
  /** A GET route below /api/ops whose JSON the page shows, e.g. `/social`. */
  apiPath: string;
}

/**
 * The metrics registry the service hands to workloads (prom-client's Registry in
 * apps/api); typed loosely so packages/ops needs no metrics library.
 */
export type MetricsRegistry = object;

export interface Workload {
  /** Short and unique, e.g. `social`. */
  name: string;
  /** Its step kinds. Built-in ones need a handler from `handlers`. */
  stepKinds?: StepKindDefinition[];
  /** Its policy keys. A key named like one of its skills is that skill's toggle and must hold `enabled`. */
  policyKeys?: PolicyKeyDefinition[];
  summarySections?: SummarySection[];
  consolePages?: ConsolePage[];
  /** Handlers for its built-in step kinds, built once the core's dependencies exist. */
  handlers?(ops: WorkloadDeps): ReadonlyMap<string, StepHandler>;
  routes?(ops: WorkloadDeps): WorkloadRoute[];
  /** Registers its metrics (gauges, counters) once at start-up. */
  metrics?(registry: MetricsRegistry, ops: WorkloadDeps): void;
}

/**
 * Handlers for every built-in kind of `workloads`, checked against their kinds: a built-in
 * kind without a handler, or a handler without a kind, stops the process at start-up.
 */
export function workloadHandlers(workloads: readonly Workload[], ops: WorkloadDeps): Map<string, StepHandler> {
  const out = new Map<string, StepHandler>();
  for (const w of workloads) {
    const handlers = w.handlers?.(ops) ?? new Map<string, StepHandler>();
    const builtin = new Set((w.stepKinds ?? []).filter((k) => k.executor === 'builtin').map((k) => k.kind));
    for (const kind of builtin) if (!handlers.has(kind)) throw new Error(`workload ${w.name}: built-in step kind ${kind} has no handler`);
    for (const [kind, handler] of handlers) {
      if (!builtin.has(kind)) throw new Error(`workload ${w.name}: handler for ${kind}, which is not one of its built-in step kinds`);
      out.set(kind, handler);
    }
  }
  return out;
}

/** Every workload's routes, each with its workload's name; duplicates refused. */
export function workloadRoutes(workloads: readonly Workload[], ops: WorkloadDeps): (WorkloadRoute & { workload: string })[] {
  const seen = new Set<string>();
  return workloads.flatMap((w) =>
    (w.routes?.(ops) ?? []).map((r) => {
      const id = `${r.method} ${r.path}`;
      if (seen.has(id)) throw new Error(`workload ${w.name}: route ${id} is defined twice`);
      seen.add(id);
      return { ...r, workload: w.name };
    }),
  );
}

/** Checks names are unique; the rest is checked where each contribution is composed. */
export function assertWorkloads(workloads: readonly Workload[]): void {
  const names = new Set<string>();
  for (const w of workloads) {
    if (names.has(w.name)) throw new Error(`workload ${w.name} is registered twice`);
    names.add(w.name);
  }
}

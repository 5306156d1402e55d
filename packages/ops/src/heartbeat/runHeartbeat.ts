import type pg from 'pg';
import type { Clock, Logger } from '@opsloop/core';
import type { PrismaClient } from '@opsloop/db';
import type { OpsObserver } from '../metrics/observer.ts';

/**
 * heartbeat phase: one unit of the heartbeat (evaluate triggers, process reactions, …).
 * It gets a deadline and must stop at a safe point once it passes it, leaving a durable
 * cursor so the next heartbeat resumes where it stopped.
 */
export interface HeartbeatPhase {
  name: string;
  /** Time this phase may use. (Default: 5000) */
  budgetMs?: number;
  run(ctx: PhaseContext): Promise<unknown>;
}

export interface PhaseContext {
  /** Wall-clock deadline (performance time, ms): check `outOfTime()` between units of work. */
  outOfTime(): boolean;
  signal: AbortSignal;
}

export interface PhaseReport {
  name: string;
  ok: boolean;
  durationMs: number;
  result?: unknown;
  error?: string;
}

export type HeartbeatOutcome =
  | { status: 'completed'; runId: number; startedAt: Date; finishedAt: Date; phases: PhaseReport[] }
  | { status: 'already_running'; startedAt: Date | null };

// Arbitrary but fixed: every opsloop process contends for this one advisory lock.
const HEARTBEAT_LOCK_KEY = 7_146_201_002;

/**
 * Runs the phases in order, each in its own try/catch with its own time budget: one
 * phase failing never stops the others. Single flight across replicas: a session-level
 * advisory lock held on a dedicated connection for the whole run; a second caller gets
 * `already_running` at once. If the process dies the connection closes and PostgreSQL
 * releases the lock.
 */
export async function runHeartbeat(
  deps: { prisma: PrismaClient; pool: pg.Pool; clock: Clock; logger: Logger; observer?: OpsObserver },
  phases: HeartbeatPhase[],
  triggeredBy: string,
): Promise<HeartbeatOutcome> {
  const client = await deps.pool.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [HEARTBEAT_LOCK_KEY]);
    if (!rows[0]?.locked) {
      const running = await deps.prisma.opsHeartbeatRun.findFirst({ where: { status: 'running' }, orderBy: { id: 'desc' }, select: { startedAt: true } });
      return { status: 'already_running', startedAt: running?.startedAt ?? null };
    }
    try {
      return await runPhases(deps, phases, triggeredBy);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [HEARTBEAT_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}

async function runPhases(deps: { prisma: PrismaClient; clock: Clock; logger: Logger; observer?: OpsObserver }, phases: HeartbeatPhase[], triggeredBy: string) {
  const startedAt = deps.clock.now();
  // A run left 'running' by a process that died: the lock says nobody runs now.
  await deps.prisma.opsHeartbeatRun.updateMany({ where: { status: 'running' }, data: { status: 'failed', finishedAt: startedAt } });
  const run = await deps.prisma.opsHeartbeatRun.create({ data: { triggeredBy, status: 'running', startedAt }, select: { id: true } });
  const reports: PhaseReport[] = [];
  for (const phase of phases) {
    const t0 = performance.now();
    const budget = phase.budgetMs ?? 5000;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`phase ${phase.name} ran out of its ${budget} ms budget`)), budget);
    try {
      const result = await phase.run({ outOfTime: () => performance.now() - t0 >= budget, signal: abort.signal });
      reports.push({ name: phase.name, ok: true, durationMs: Math.round(performance.now() - t0), result });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      deps.logger.debug({ phase: phase.name, err: error }, 'heartbeat phase failed');
      reports.push({ name: phase.name, ok: false, durationMs: Math.round(performance.now() - t0), error: message });
    } finally {
      clearTimeout(timer);
      const last = reports.at(-1)!;
      deps.observer?.heartbeatPhase(phase.name, last.durationMs / 1000, last.ok);
    }
  }
  const finishedAt = deps.clock.now();
  const status = reports.every((r) => r.ok) ? 'succeeded' : reports.some((r) => r.ok) ? 'partial' : 'failed';
  await deps.prisma.opsHeartbeatRun.update({
    where: { id: run.id },
    data: { status, finishedAt, results: JSON.parse(JSON.stringify(reports)) as object },
  });
  // One line per heartbeat: each phase's outcome (`ok 12ms` or its error) at a glance.
  deps.logger[status === 'succeeded' ? 'info' : 'warn'](
    {
      runId: Number(run.id),
      triggeredBy,
      status,
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      phases: Object.fromEntries(reports.map((r) => [r.name, r.ok ? `ok ${r.durationMs}ms` : `failed ${r.durationMs}ms: ${r.error}`])),
    },
    `heartbeat ${status}`,
  );
  return { status: 'completed' as const, runId: Number(run.id), startedAt, finishedAt, phases: reports };
}

export async function lastHeartbeat(prisma: PrismaClient) {
  const run = await prisma.opsHeartbeatRun.findFirst({ where: { finishedAt: { not: null } }, orderBy: { id: 'desc' } });
  return run ? { ...run, id: Number(run.id) } : null;
}

import { backoffDelayMs, ConflictError, NotFoundError } from '@opsloop/core';
import { inPgTransaction, inTransaction, prismaRunner, withTransientRetry, type DbClient, type Prisma, type SqlRunner } from '@opsloop/db';
import type { OpsDeps } from '../types.ts';
import { leaseSecondsSql } from './leaseSeconds.ts';
import { writeEvents } from '../events.ts';
import { finaliseMission, finaliseMissions } from './finaliseMission.ts';

type Deps = Pick<OpsDeps, 'prisma' | 'clock' | 'policy' | 'observer'> & { random?: () => number };

const leaseLost = () => new ConflictError('lease is not current: the step was reclaimed, released or already finished');

/** 404 when the step does not exist, otherwise 409: the caller's lease is stale. */
async function leaseError(db: DbClient, stepId: string): Promise<Error> {
  const exists = await db.opsMissionStep.findUnique({ where: { id: stepId }, select: { id: true } });
  return exists ? leaseLost() : new NotFoundError('step');
}

export interface CompleteResult {
  stepId: string;
  missionId: string;
  nextStepId: string | null;
  mission: 'succeeded' | 'failed' | undefined;
}

export interface CompleteInput {
  stepId: string;
  leaseToken: string;
  result?: unknown;
}

export type CompleteOutcome = ({ ok: true } & CompleteResult) | { ok: false; stepId: string; error: 'lease_lost' | 'not_found' };

/**
 * Marks leased steps succeeded, closes their runs, queues each mission's next step (or
 * finalises the mission), in one statement plus one finalisation for the whole batch.
 * Each item needs its current lease token: a worker whose lease was reclaimed gets
 * `lease_lost` and changes nothing. The in-process worker batches its completions here.
 */
export function completeSteps(deps: Deps & Pick<OpsDeps, 'pool'>, items: CompleteInput[], tx?: Prisma.TransactionClient): Promise<CompleteOutcome[]> {
  const run = async (sql: SqlRunner): Promise<CompleteOutcome[]> => {
    if (items.length === 0) return [];
    const now = deps.clock.now();
    const ids = items.map((i) => i.stepId);
    const done = await sql.query<{ id: string; mission_id: string; kind: string; duration_ms: number | null; next_id: string | null }>({
      name: 'opsloop_complete_steps',
      text: COMPLETE_SQL,
      values: [ids, items.map((i) => i.leaseToken), items.map((i) => JSON.stringify(i.result ?? null)), now],
    });
    const finalised = await finaliseMissions(sql, done.filter((d) => !d.next_id).map((d) => d.mission_id), now);

    for (const d of done) deps.observer?.stepSettled(d.kind, 'succeeded', d.duration_ms === null ? null : d.duration_ms / 1000);
    const byId = new Map(done.map((d) => [d.id, d]));
    const missing = ids.filter((id) => !byId.has(id));
    const existing = missing.length
      ? new Set((await sql.query<{ id: string }>({ text: 'SELECT id FROM ops_mission_steps WHERE id = ANY($1::uuid[])', values: [missing] })).map((r) => r.id))
      : new Set<string>();
    return items.map((item): CompleteOutcome => {
      const d = byId.get(item.stepId);
      if (!d) return { ok: false, stepId: item.stepId, error: existing.has(item.stepId) ? 'lease_lost' : 'not_found' };
      return { ok: true, stepId: d.id, missionId: d.mission_id, nextStepId: d.next_id, mission: finalised.get(d.mission_id) };
    });
  };
  // The worker's batches run on the pg pool: completion is on every step's path.
  return tx ? run(prismaRunner(tx)) : withTransientRetry(() => inPgTransaction(deps.pool, run));
}

// $1 step ids, $2 lease tokens, $3 results (JSON text), $4 now. The statement is
// opsloop_complete_steps (sql/migrations/016: a function, so its plan holds at any table
// size); the NOTIFY for each newly queued kind is sent at commit, like every other enqueue.
const COMPLETE_SQL = `
  SELECT id, mission_id, kind, duration_ms, next_id FROM opsloop_complete_steps($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz)`;

/** completeSteps for one step; throws 409 (lease not current) or 404 (no such step). */
export async function completeStep(deps: Deps & Pick<OpsDeps, 'pool'>, input: CompleteInput, tx?: Prisma.TransactionClient): Promise<CompleteResult> {
  const [outcome] = await completeSteps(deps, [input], tx);
  if (!outcome!.ok) throw outcome!.error === 'not_found' ? new NotFoundError('step') : leaseLost();
  const { ok: _ok, ...result } = outcome!;
  return result;
}

export interface FailInput {
  stepId: string;
  leaseToken: string;
  error: string;
  /** false: do not retry even if attempts remain (e.g. invalid params). (Default: true) */
  retryable?: boolean;
  outcome?: 'failed' | 'timed_out' | 'lost';
  details?: unknown;
}

export interface FailResult {
  stepId: string;
  missionId: string;
  status: 'queued' | 'failed';
  retryAt: Date | null;
  mission: 'succeeded' | 'failed' | undefined;
}

/**
 * Ends a leased attempt as failed: retried with exponential backoff and jitter while
 * attempts remain (and the error is retryable), otherwise the step fails and the
 * mission is finalised. Stale recovery goes through here too.
 */
export function failStep(deps: Deps, input: FailInput, tx?: Prisma.TransactionClient): Promise<FailResult> {
  const run = async (t: Prisma.TransactionClient): Promise<FailResult> => {
    const now = deps.clock.now();
    const [step] = await t.$queryRaw<
      { id: string; mission_id: string; kind: string; skill: string; trace_id: string; attempts: number; max_attempts: number }[]
    >`SELECT id, mission_id, kind, skill, trace_id, attempts, max_attempts FROM ops_mission_steps
      WHERE id = ${input.stepId}::uuid AND status = 'running' AND lease_token = ${input.leaseToken}::uuid FOR UPDATE`;
    if (!step) throw await leaseError(t, input.stepId);

    const { step_defaults: d } = await deps.policy.read(t, ['step_defaults']);
    const retry = input.retryable !== false && step.attempts < step.max_attempts;
    const error = input.error.slice(0, 4000);
    const retryAt = retry
      ? new Date(now.getTime() + backoffDelayMs(step.attempts - 1, d.backoff_base_seconds * 1000, d.backoff_max_seconds * 1000, deps.random))
      : null;
    const details = JSON.stringify(input.details ?? null);

    await t.$executeRaw`
      UPDATE ops_mission_steps
      SET status = ${retry ? 'queued' : 'failed'}, run_after = coalesce(${retryAt}::timestamptz, run_after),
          finished_at = ${retry ? null : now}::timestamptz, error = ${error},
          lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = ${now}::timestamptz
      WHERE id = ${step.id}::uuid`;
    const [run] = await t.$queryRaw<{ duration_ms: number | null }[]>`
      UPDATE ops_step_runs
      SET finished_at = ${now}::timestamptz, outcome = ${input.outcome ?? 'failed'}, error = ${error}, details = ${details}::jsonb,
          duration_ms = greatest(0, (extract(epoch FROM (${now}::timestamptz - started_at)) * 1000)::int)
      WHERE step_id = ${step.id}::uuid AND lease_token = ${input.leaseToken}::uuid
      RETURNING duration_ms`;
    await writeEvents(t, [
      {
        kind: retry ? 'step:retry_scheduled' : 'step:failed',
        source: 'workers',
        skill: step.skill,
        missionId: step.mission_id,
        stepId: step.id,
        traceId: step.trace_id,
        tags: retry ? [] : ['failure'],
        payload: { kind: step.kind, attempt: step.attempts, maxAttempts: step.max_attempts, error, outcome: input.outcome ?? 'failed', retryAt },
        createdAt: now,
      },
    ]);
    const mission = retry ? undefined : await finaliseMission(t, step.mission_id, now);
    deps.observer?.stepSettled(step.kind, input.outcome ?? 'failed', run?.duration_ms == null ? null : run.duration_ms / 1000);
    return { stepId: step.id, missionId: step.mission_id, status: retry ? 'queued' : 'failed', retryAt, mission };
  };
  return tx ? run(tx) : withTransientRetry(() => inTransaction(deps.prisma, run));
}

/** Moves a live lease's expiry forward; 409 when the lease is no longer the caller's. */
export async function extendLease(
  deps: Pick<OpsDeps, 'prisma' | 'clock'>,
  input: { stepId: string; leaseToken: string; /** (Default: `step_defaults.lease_seconds`) */ leaseSeconds?: number },
): Promise<{ leaseExpiresAt: Date }> {
  const now = deps.clock.now();
  const rows = await deps.prisma.$queryRaw<{ lease_expires_at: Date }[]>`
    UPDATE ops_mission_steps SET lease_expires_at = ${now}::timestamptz + make_interval(secs => ${leaseSecondsSql(input.leaseSeconds)}), updated_at = ${now}::timestamptz
    WHERE id = ${input.stepId}::uuid AND status = 'running' AND lease_token = ${input.leaseToken}::uuid
    RETURNING lease_expires_at`;
  if (!rows[0]) throw await leaseError(deps.prisma, input.stepId);
  return { leaseExpiresAt: rows[0].lease_expires_at };
}

/**
 * Gives leased steps back untouched (a worker shutting down): queued again at once, the
 * attempt not counted, the run recorded as released.
 */
export async function releaseSteps(deps: Pick<OpsDeps, 'prisma' | 'clock'>, leases: { stepId: string; leaseToken: string }[]): Promise<number> {
  if (leases.length === 0) return 0;
  const now = deps.clock.now();
  const ids = leases.map((l) => l.stepId);
  const tokens = leases.map((l) => l.leaseToken);
  const rows = await deps.prisma.$queryRaw<{ id: string }[]>`
    WITH input AS (SELECT * FROM unnest(${ids}::uuid[], ${tokens}::uuid[]) AS i(id, token)),
    released AS (
      UPDATE ops_mission_steps s
      SET status = 'queued', attempts = greatest(0, s.attempts - 1), run_after = ${now}::timestamptz,
          lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = ${now}::timestamptz
      FROM input WHERE s.id = input.id AND s.status = 'running' AND s.lease_token = input.token
      RETURNING s.id, s.mission_id, s.kind, s.skill, s.trace_id, input.token
    ), runs AS (
      UPDATE ops_step_runs r SET finished_at = ${now}::timestamptz, outcome = 'released',
        duration_ms = greatest(0, (extract(epoch FROM (${now}::timestamptz - r.started_at)) * 1000)::int)
      FROM released WHERE r.step_id = released.id AND r.lease_token = released.token
    ), events AS (
      INSERT INTO ops_events (kind, source, skill, mission_id, step_id, trace_id, payload, created_at)
      SELECT 'step:released', 'workers', skill, mission_id, id, trace_id, jsonb_build_object('kind', kind), ${now}::timestamptz FROM released
    )
    SELECT id FROM released`;
  if (rows.length) await deps.prisma.$executeRaw`SELECT pg_notify('opsloop_steps', 'released')`;
  return rows.length;
}

/**
 * opsloop's closed loop, in one glossary:
 *
 * - proposal      A request for work (title, skill, 1–20 steps) from an agent, a trigger,
 *                 a reaction, the scheduler or a person. Enters only through createProposal.
 * - policy gate   A check against `ops_policy` rows read on every proposal, so an operator's
 *                 UPDATE takes effect at once: the kill switch (`system_enabled`), skill
 *                 toggles (`<skill>.enabled`) and auto-approval (`auto_approve`).
 * - cap gate      A per-step-kind daily quota (`daily_quotas`) counted over steps already
 *                 approved today; a proposal that would exceed it is rejected, never queued.
 * - mission       The approved proposal's unit of execution: its steps run in order.
 * - step          One unit of work of a given kind (`ops.diagnose_failures`, `x.post`, …),
 *                 executed by a worker; retried with backoff up to `max_attempts`.
 * - lease         A step's claim by one worker: owner, token and expiry. Only the current
 *                 token can heartbeat, complete or fail the step.
 * - step run      One execution attempt of a step (ops_step_runs), the execution log.
 * - step kind     What a step does: its params schema, skill, executor and timeout. Defined
 *                 in code (the core's and the workloads') or registered by operators
 *                 (`ops_step_kinds`, external executors only).
 * - skill         A named capability with a policy toggle row of the same name; every
 *                 step kind belongs to one.
 * - workload      A body of work (social engagement, …) that registers step kinds,
 *                 policy keys, summary sections, routes and console pages (workload.ts).
 * - event         An append-only record of a transition (ops_events); its id is the cursor
 *                 that triggers and reactions read from; trace_id ties one proposal's story.
 */
import type { Clock, Logger } from '@opsloop/core';
import type { PrismaClient } from '@opsloop/db';
import type pg from 'pg';
import type { StepCatalog } from './catalog.ts';
import type { PolicyReader } from './policy/readPolicy.ts';
import type { OpsObserver } from './metrics/observer.ts';
import type { Workload } from './workload.ts';

/** What the domain functions need; passed in so tests can use a fake clock. */
export interface OpsDeps {
  prisma: PrismaClient;
  /** The pool Prisma runs on, for the hot paths that skip the ORM (claim, intake). */
  pool: pg.Pool;
  clock: Clock;
  logger: Logger;
  catalog: StepCatalog;
  policy: PolicyReader;
  /** What the workloads registered (summary sections, routes, …). (Default: none) */
  workloads?: readonly Workload[];
  /** Source of randomness for backoff jitter. (Default: Math.random) */
  random?: () => number;
  /** Metrics hooks (counters only). (Default: none) */
  observer?: OpsObserver;
}

export type ProposalSource = 'api' | 'trigger' | 'reaction' | 'schedule' | 'manual';

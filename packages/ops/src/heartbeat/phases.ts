import type pg from 'pg';
import type { Logger } from '@opsloop/core';
import type { ProposalDeps } from '../proposals/createProposal.ts';
import { expireStaleProposals } from '../proposals/decideProposal.ts';
import { recoverStaleSteps } from '../steps/recoverStaleSteps.ts';
import type { AlertSink } from './alerts.ts';
import { checkOpsHealth } from './checkOpsHealth.ts';
import { evaluateTriggers } from './evaluateTriggers.ts';
import { processReactionQueue } from './processReactionQueue.ts';
import { vacuumQueues } from './vacuumQueues.ts';
import type { HeartbeatPhase, PhaseContext } from './runHeartbeat.ts';
import type { Workload } from '../workload.ts';

export interface HeartbeatDeps extends ProposalDeps {
  logger: Logger;
  pool: pg.Pool;
  random?: () => number;
  sink?: AlertSink;
  /** Overrides `ops_monitor.heartbeat_missing_minutes` (HEARTBEAT_WINDOW_MINUTES). (Default: the policy value) */
  heartbeatWindowMinutes?: number;
  /** Their daily-summary sections join the summary. (Default: none) */
  workloads?: readonly Workload[];
  /** The insight promotion phase; omitted, the phase reports "not configured". */
  promoteInsights?: (ctx: PhaseContext) => Promise<unknown>;
}

/** The heartbeat's phases, in order, with their budgets. */
export function heartbeatPhases(deps: HeartbeatDeps): HeartbeatPhase[] {
  return [
    { name: 'evaluateTriggers', budgetMs: 4000, run: (ctx) => evaluateTriggers(deps, ctx) },
    { name: 'processReactionQueue', budgetMs: 3000, run: (ctx) => processReactionQueue(deps, ctx) },
    { name: 'promoteInsights', budgetMs: 30_000, run: (ctx) => (deps.promoteInsights ? deps.promoteInsights(ctx) : Promise.resolve({ skipped: 'not configured' })) },
    { name: 'recoverStaleSteps', budgetMs: 3000, run: () => recoverStaleSteps(deps) },
    { name: 'expireStaleProposals', budgetMs: 2000, run: () => expireStaleProposals(deps) },
    { name: 'checkOpsHealth', budgetMs: 10_000, run: () => checkOpsHealth(deps) },
    { name: 'vacuumQueues', budgetMs: 30_000, run: () => vacuumQueues(deps) },
  ];
}

import type { CreateProposalResult } from '../proposals/createProposal.ts';
import type { RunCause } from './claimTick.ts';

/**
 * What a job reports about one run. `skipped` means it did nothing, and says why (no
 * Slack webhook, the proposal was deduplicated or rejected, …); a job that could not do
 * its work throws instead, and the run is recorded `failed` with the message.
 * `detail` is stored as JSON (at most 4 KiB; larger becomes a preview).
 */
export type JobOutcome = { status: 'succeeded'; detail?: unknown } | { status: 'skipped'; reason: string; detail?: unknown };

/**
 * Which missed ticks a job runs after downtime:
 * - `latest`: the latest tick missed while no scheduler ran runs once at start-up (a
 *   06:00 summary after a restart at 06:20), once across replicas;
 * - `none`:   missed ticks are dropped; the next tick runs as usual.
 */
export type CatchUp = 'latest' | 'none';

export interface InternalJobContext {
  /** The schedule.yaml job that runs it (one internal job may back several entries). */
  jobName: string;
  /** The tick (a manual run: the instant it was asked for). */
  scheduledFor: Date;
  cause: RunCause;
  /** Aborts when the scheduler stops and its grace period is over. */
  signal: AbortSignal;
}

/**
 * A job the API process runs itself, named by `run: { internal: <name> }` in
 * schedule.yaml. Register it in the map given to createScheduler (and its name to
 * loadSchedule) — see apps/api/src/schedule.ts.
 */
export interface InternalJob {
  run(ctx: InternalJobContext): Promise<JobOutcome>;
  /** Used when its schedule.yaml entry sets no `catch_up`. (Default: 'none') */
  catchUp?: CatchUp;
}

export type InternalJobs = Readonly<Record<string, InternalJob>>;

/**
 * A scheduled proposal's outcome: `succeeded` when a proposal was created (approved, or
 * pending a person's decision); `skipped` when nothing new came of the tick — the dedupe
 * key matched an existing proposal, or the gates rejected it (skill disabled, quota).
 */
export function proposalJobOutcome({ proposal, created }: CreateProposalResult): JobOutcome {
  const detail = { proposalId: proposal.id, status: proposal.status, missionId: proposal.missionId, created };
  if (!created) return { status: 'skipped', reason: `deduplicated: proposal ${proposal.id} already exists for this tick`, detail };
  if (proposal.status === 'rejected') return { status: 'skipped', reason: `proposal rejected: ${proposal.reason ?? 'no reason given'}`, detail };
  return { status: 'succeeded', detail };
}

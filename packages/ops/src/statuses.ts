/**
 * Every status and allowed transition of proposals, missions and steps. SQL updates
 * guard on these (`WHERE status IN (…)`) so a repeated or late transition changes
 * nothing and writes no event.
 */
export const PROPOSAL_STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

export const MISSION_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type MissionStatus = (typeof MISSION_STATUSES)[number];

/** `waiting`: the step before this one has not succeeded yet. */
export const STEP_STATUSES = ['waiting', 'queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const PROPOSAL_TRANSITIONS: Record<ProposalStatus, readonly ProposalStatus[]> = {
  pending: ['approved', 'rejected', 'expired'],
  approved: [],
  rejected: [],
  expired: [],
};

export const MISSION_TRANSITIONS: Record<MissionStatus, readonly MissionStatus[]> = {
  queued: ['running', 'succeeded', 'failed', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export const STEP_TRANSITIONS: Record<StepStatus, readonly StepStatus[]> = {
  waiting: ['queued', 'cancelled'],
  queued: ['running', 'cancelled'],
  running: ['succeeded', 'failed', 'queued', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export function isFinalMission(status: MissionStatus): boolean {
  switch (status) {
    case 'queued':
    case 'running':
      return false;
    case 'succeeded':
    case 'failed':
    case 'cancelled':
      return true;
  }
}

/**
 * The one rule for a mission's outcome from its steps' statuses: any failed step fails
 * it; all succeeded succeeds it; otherwise it is still in progress (undefined).
 */
export function missionOutcome(steps: readonly StepStatus[]): 'succeeded' | 'failed' | undefined {
  if (steps.some((s) => s === 'failed')) return 'failed';
  if (steps.length > 0 && steps.every((s) => s === 'succeeded')) return 'succeeded';
  return undefined;
}

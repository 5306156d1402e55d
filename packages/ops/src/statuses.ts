/**
 * The statuses of proposals, missions and steps, and the rule that ends a mission.
 * Each transition is guarded in the one SQL statement that makes it (`WHERE status IN
 * (…)` in recordDecision, claimSteps, completeSteps, failStep, finaliseMissions), so a
 * repeated or late transition changes nothing and writes no event.
 */
export const PROPOSAL_STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

export const MISSION_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type MissionStatus = (typeof MISSION_STATUSES)[number];

/** `waiting`: the step before this one has not succeeded yet. */
export const STEP_STATUSES = ['waiting', 'queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/**
 * The one rule for a mission's outcome from its steps' statuses: any failed step fails
 * it; all succeeded succeeds it; otherwise it is still in progress (undefined).
 */
export function missionOutcome(steps: readonly StepStatus[]): 'succeeded' | 'failed' | undefined {
  if (steps.some((s) => s === 'failed')) return 'failed';
  if (steps.length > 0 && steps.every((s) => s === 'succeeded')) return 'succeeded';
  return undefined;
}

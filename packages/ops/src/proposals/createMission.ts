import type { Prisma } from '@opsloop/db';
import type { PolicyValue } from '../policy/schemas.ts';
import type { NewEvent } from '../events.ts';

export interface MissionSource {
  id: string;
  title: string;
  skill: string;
  traceId: string;
  steps: { kind: string; skill: string; params: Record<string, unknown>; maxAttempts?: number; timeoutSeconds?: number }[];
}

/**
 * Creates the mission and its steps for an approved proposal: the first step is
 * claimable now, the others wait for the one before. Wakes idle workers on commit.
 */
export async function createMission(
  tx: Prisma.TransactionClient,
  defaults: PolicyValue<'step_defaults'>,
  proposal: MissionSource,
  now: Date,
): Promise<{ missionId: string; events: NewEvent[] }> {
  const mission = await tx.opsMission.create({
    data: {
      proposalId: proposal.id,
      title: proposal.title,
      skill: proposal.skill,
      status: 'queued',
      traceId: proposal.traceId,
      createdAt: now,
      updatedAt: now,
    },
    select: { id: true },
  });
  await tx.opsMissionStep.createMany({
    data: proposal.steps.map((step, position) => ({
      missionId: mission.id,
      position,
      kind: step.kind,
      skill: step.skill,
      params: step.params as object,
      status: position === 0 ? 'queued' : 'waiting',
      maxAttempts: step.maxAttempts ?? defaults.max_attempts,
      timeoutSeconds: step.timeoutSeconds ?? 300,
      runAfter: now,
      traceId: proposal.traceId,
      createdAt: now,
      updatedAt: now,
    })),
  });
  await tx.$executeRaw`SELECT pg_notify('opsloop_steps', ${proposal.steps[0]?.kind ?? ''})`;
  return {
    missionId: mission.id,
    events: [
      {
        kind: 'mission:created',
        source: 'missions',
        skill: proposal.skill,
        proposalId: proposal.id,
        missionId: mission.id,
        traceId: proposal.traceId,
        payload: { title: proposal.title, steps: proposal.steps.map((s) => s.kind) },
        createdAt: now,
      },
    ],
  };
}

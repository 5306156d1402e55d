import type { Clock, Logger } from '@opsloop/core';
import type { PrismaClient } from '@opsloop/db';
import { createStepCatalog, DEFAULT_STEP_KINDS, type StepKindDefinition } from './catalog.ts';
import { createPolicyReader } from './policy/readPolicy.ts';
import { createPolicyRegistry } from './policy/registry.ts';
import type { ProposalDeps } from './proposals/createProposal.ts';
import type { OpsDeps } from './types.ts';
import { assertWorkloads, type Workload } from './workload.ts';

/**
 * The one way to wire the domain's dependencies: opsloop's own step kinds and policy keys
 * plus what `workloads` register, and a policy reader on the same client. Used by the
 * service, the tests and the benchmarks alike.
 */
export function createOpsDeps(o: {
  prisma: PrismaClient;
  clock: Clock;
  logger: Logger;
  /** Day boundary for quotas and summaries (OPS_TIMEZONE). */
  timeZone: string;
  workloads?: readonly Workload[];
  /** Extra code kinds outside any workload (tests). */
  stepKinds?: StepKindDefinition[];
  random?: () => number;
}): OpsDeps & ProposalDeps {
  const workloads = o.workloads ?? [];
  assertWorkloads(workloads);
  const registry = createPolicyRegistry(workloads.flatMap((w) => w.policyKeys ?? []));
  return {
    prisma: o.prisma,
    clock: o.clock,
    logger: o.logger,
    catalog: createStepCatalog([...DEFAULT_STEP_KINDS, ...workloads.flatMap((w) => w.stepKinds ?? []), ...(o.stepKinds ?? [])]),
    policy: createPolicyReader({ prisma: o.prisma, logger: o.logger, registry }),
    timeZone: o.timeZone,
    workloads,
    random: o.random,
  };
}

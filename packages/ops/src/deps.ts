import type { Clock, Logger } from '@opsloop/core';
import type { Database } from '@opsloop/db';
import { createCodeKinds, createStepCatalog, DEFAULT_STEP_KINDS, type StepKindDefinition } from './catalog.ts';
import { createRegisteredKinds } from './catalog/registeredKinds.ts';
import { createPolicyReader } from './policy/readPolicy.ts';
import { createPolicyRegistry } from './policy/registry.ts';
import type { ProposalDeps } from './proposals/createProposal.ts';
import type { OpsDeps } from './types.ts';
import type { OpsObserver } from './metrics/observer.ts';
import { assertWorkloads, type Workload } from './workload.ts';

/**
 * The one way to wire the domain's dependencies: opsloop's own step kinds and policy keys
 * plus what `workloads` register, operators' registered kinds (cached only once
 * `listenForCatalogChanges` is connected), and a policy reader on the same client. Used by the
 * service, the tests and the benchmarks alike.
 */
export function createOpsDeps(o: {
  db: Pick<Database, 'prisma' | 'pool'>;
  clock: Clock;
  logger: Logger;
  /** Day boundary for quotas and summaries (OPS_TIMEZONE). */
  timeZone: string;
  workloads?: readonly Workload[];
  /** Extra code kinds outside any workload (tests). */
  stepKinds?: StepKindDefinition[];
  random?: () => number;
  observer?: OpsObserver;
}): OpsDeps & ProposalDeps {
  const workloads = o.workloads ?? [];
  assertWorkloads(workloads);
  const registry = createPolicyRegistry(workloads.flatMap((w) => w.policyKeys ?? []));
  const codeKinds = createCodeKinds([...DEFAULT_STEP_KINDS, ...workloads.flatMap((w) => w.stepKinds ?? []), ...(o.stepKinds ?? [])]);
  const codeNamespaces = new Set(codeKinds.kinds().map((k) => k.split('.')[0]!));
  const registered = createRegisteredKinds({
    prisma: o.db.prisma,
    logger: o.logger,
    reserved: {
      isCodeKind: (name) => codeKinds.get(name) !== undefined,
      isCodeNamespace: (name) => name.includes('.') && codeNamespaces.has(name.split('.')[0]!),
      isReservedKey: (skill) => registry.get(skill) !== undefined && !codeKinds.hasSkill(skill),
    },
  });
  return {
    prisma: o.db.prisma,
    pool: o.db.pool,
    clock: o.clock,
    logger: o.logger,
    catalog: createStepCatalog(codeKinds.definitions(), registered),
    policy: createPolicyReader({ prisma: o.db.prisma, logger: o.logger, registry }),
    timeZone: o.timeZone,
    workloads,
    random: o.random,
    observer: o.observer,
  };
}

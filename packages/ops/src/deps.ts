import type { Clock, Logger } from '@opsloop/core';
import type { Database } from '@opsloop/db';
import { createStepCatalog, DEFAULT_STEP_KINDS, type StepKindDefinition } from './catalog.ts';
import { createPolicyReader } from './policy/readPolicy.ts';
import type { ProposalDeps } from './proposals/createProposal.ts';
import type { OpsDeps } from './types.ts';
import type { OpsObserver } from './metrics/observer.ts';

/**
 * The one way to wire the domain's dependencies: opsloop's own step kinds plus
 * `stepKinds` (e.g. Moltbook's), and a policy reader on the same client. Used by the
 * service, the tests and the benchmarks alike.
 */
export function createOpsDeps(o: {
  db: Pick<Database, 'prisma' | 'pool'>;
  clock: Clock;
  logger: Logger;
  /** Day boundary for quotas and summaries (OPS_TIMEZONE). */
  timeZone: string;
  stepKinds?: StepKindDefinition[];
  random?: () => number;
  observer?: OpsObserver;
}): OpsDeps & ProposalDeps {
  return {
    prisma: o.db.prisma,
    pool: o.db.pool,
    clock: o.clock,
    logger: o.logger,
    catalog: createStepCatalog([...DEFAULT_STEP_KINDS, ...(o.stepKinds ?? [])]),
    policy: createPolicyReader({ prisma: o.db.prisma, logger: o.logger }),
    timeZone: o.timeZone,
    random: o.random,
    observer: o.observer,
  };
}

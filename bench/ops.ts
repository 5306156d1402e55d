import { silentLogger, systemClock } from '@opsloop/core';
import type { Database } from '@opsloop/db';
import { createPolicyReader, createStepCatalog, DEFAULT_STEP_KINDS } from '@opsloop/ops';

/** The domain dependencies every benchmark wires: real clock, silent logger. */
export function benchOps(db: Database, timeZone = 'UTC') {
  const logger = silentLogger();
  return {
    prisma: db.prisma,
    clock: systemClock,
    logger,
    catalog: createStepCatalog(DEFAULT_STEP_KINDS),
    policy: createPolicyReader({ prisma: db.prisma, logger }),
    timeZone,
  };
}

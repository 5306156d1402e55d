import { Prisma } from '@opsloop/db';
import { LEASE_SECONDS, POLICY_FALLBACKS } from '../policy/schemas.ts';

/**
 * `step_defaults.lease_seconds` as an SQL expression, read inside the statement that
 * uses it (claims are the hot path: no extra round trip). A stored value that is not an
 * integer within LEASE_SECONDS counts as absent and the default applies, as the kill
 * switch in claimSteps reads its row. CASE keeps PostgreSQL from casting a non-number.
 */
export const POLICY_LEASE_SECONDS_SQL = `coalesce((
    SELECT CASE WHEN jsonb_typeof(value -> 'lease_seconds') = 'number'
                 AND (value ->> 'lease_seconds')::numeric BETWEEN ${LEASE_SECONDS.min} AND ${LEASE_SECONDS.max}
                 AND (value ->> 'lease_seconds')::numeric % 1 = 0
            THEN (value ->> 'lease_seconds')::int END
    FROM ops_policy WHERE key = 'step_defaults'), ${POLICY_FALLBACKS.step_defaults.lease_seconds})`;

/** The lease length of a claim or renewal: the caller's, or else the policy's. */
export function leaseSecondsSql(requested: number | undefined): Prisma.Sql {
  return requested !== undefined ? Prisma.sql`${requested}::int` : Prisma.raw(POLICY_LEASE_SECONDS_SQL);
}

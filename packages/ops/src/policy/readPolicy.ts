import type { Logger } from '@opsloop/core';
import type { DbClient, PrismaClient } from '@opsloop/db';
import { POLICY_FALLBACKS, POLICY_SCHEMAS, type PolicyKey, type PolicyValue } from './schemas.ts';
import { zodIssues } from '@opsloop/core';

export interface PolicyReader {
  /**
   * Reads keys fresh from the database (inside `db`, which may be a transaction), so an
   * operator's UPDATE applies to the very next call. An invalid stored value is reported
   * and replaced by the last valid value this process saw (or the safe fallback).
   */
  read<K extends PolicyKey>(db: DbClient, keys: readonly K[]): Promise<{ [P in K]: PolicyValue<P> }>;
  /** The same for rows the caller already fetched (e.g. within another statement). */
  parse<K extends PolicyKey>(rows: { key: string; value: unknown }[], keys: readonly K[]): { [P in K]: PolicyValue<P> };
}

export function createPolicyReader(deps: { prisma: PrismaClient; logger: Logger }): PolicyReader {
  const lastValid = new Map<PolicyKey, unknown>();
  const reported = new Map<PolicyKey, string>();

  function report(key: PolicyKey, raw: unknown, issues: ReturnType<typeof zodIssues>) {
    const fingerprint = JSON.stringify(raw);
    if (reported.get(key) === fingerprint) return; // once per bad value, not per read
    reported.set(key, fingerprint);
    deps.logger.error({ policyKey: key, issues }, 'invalid policy value ignored; last valid value stays in force');
    // Outside the caller's transaction: the report must survive its rollback.
    deps.prisma.opsEvent
      .create({ data: { kind: 'policy:invalid', source: 'policy', payload: { key, value: raw as object, issues } as object } })
      .catch((error: unknown) => deps.logger.error({ err: error }, 'could not record policy:invalid event'));
  }

  const reader: PolicyReader = {
    async read(db, keys) {
      const rows = await db.$queryRaw<{ key: string; value: unknown }[]>`SELECT key, value FROM ops_policy WHERE key = ANY(${[...keys]}::text[])`;
      return reader.parse(rows, keys);
    },
    parse(rows, keys) {
      const raw = new Map(rows.map((r) => [r.key, r.value]));
      const out = {} as Record<string, unknown>;
      for (const key of keys) {
        const schema = POLICY_SCHEMAS[key];
        if (!raw.has(key)) {
          out[key] = lastValid.get(key) ?? POLICY_FALLBACKS[key];
          continue;
        }
        const parsed = schema.safeParse(raw.get(key));
        if (parsed.success) {
          lastValid.set(key, parsed.data);
          reported.delete(key);
          out[key] = parsed.data;
        } else {
          report(key, raw.get(key), zodIssues(parsed.error));
          out[key] = lastValid.get(key) ?? POLICY_FALLBACKS[key];
        }
      }
      return out as { [P in (typeof keys)[number]]: PolicyValue<P> };
    },
  };
  return reader;
}

import type { Logger } from '@opsloop/core';
import type { DbClient, PrismaClient } from '@opsloop/db';
import type { PolicyKey, PolicyValue, SkillToggle } from './schemas.ts';
import type { PolicyRegistry } from './registry.ts';
import { zodIssues } from '@opsloop/core';

/** A key's value type: registered keys have theirs; any other key is a skill toggle. */
export type PolicyValueOf<K extends string> = K extends PolicyKey ? PolicyValue<K> : SkillToggle;
export type PolicyValuesOf<K extends string> = { [P in K]: PolicyValueOf<P> };

export interface PolicyReader {
  /** The keys this process knows (core and workloads'); any other key is a skill toggle. */
  readonly registry: PolicyRegistry;
  /**
   * Reads keys fresh from the database (inside `db`, which may be a transaction), so an
   * operator's UPDATE applies to the very next call. An invalid stored value is reported
   * and replaced by the last valid value this process saw (or the safe fallback).
   */
  read<K extends string>(db: DbClient, keys: readonly K[]): Promise<PolicyValuesOf<K>>;
  /** The same for rows the caller already fetched (e.g. within another statement). */
  parse<K extends string>(rows: { key: string; value: unknown }[], keys: readonly K[]): PolicyValuesOf<K>;
}

export function createPolicyReader(deps: { prisma: PrismaClient; logger: Logger; registry: PolicyRegistry }): PolicyReader {
  const lastValid = new Map<string, unknown>();
  const reported = new Map<string, string>();

  function report(key: string, raw: unknown, issues: ReturnType<typeof zodIssues>) {
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
    registry: deps.registry,
    async read(db, keys) {
      const rows = await db.$queryRaw<{ key: string; value: unknown }[]>`SELECT key, value FROM ops_policy WHERE key = ANY(${[...keys]}::text[])`;
      return reader.parse(rows, keys);
    },
    parse(rows, keys) {
      const raw = new Map(rows.map((r) => [r.key, r.value]));
      const out = {} as Record<string, unknown>;
      for (const key of keys) {
        const { schema, default: fallback } = deps.registry.definitionOf(key);
        if (!raw.has(key)) {
          out[key] = lastValid.get(key) ?? fallback;
          continue;
        }
        const parsed = schema.safeParse(raw.get(key));
        if (parsed.success) {
          lastValid.set(key, parsed.data);
          reported.delete(key);
          out[key] = parsed.data;
        } else {
          report(key, raw.get(key), zodIssues(parsed.error));
          out[key] = lastValid.get(key) ?? fallback;
        }
      }
      return out as PolicyValuesOf<(typeof keys)[number]>;
    },
  };
  return reader;
}

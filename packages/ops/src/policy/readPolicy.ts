import type { z } from 'zod';
import type { Logger } from '@opsloop/core';
import { Prisma, type DbClient, type PrismaClient } from '@opsloop/db';
import type { PolicyKey, PolicyValue, SkillToggle } from './schemas.ts';
import type { PolicyRegistry } from './registry.ts';
import { zodIssues } from '@opsloop/core';

/** A key's value type: registered keys have theirs; any other key is a skill toggle. */
export type PolicyValueOf<K extends string> = K extends PolicyKey ? PolicyValue<K> : SkillToggle;
export type PolicyValuesOf<K extends string> = { [P in K]: PolicyValueOf<P> };

/**
 * One ops_policy row as the reader needs it. `stale` is true when `value` differs from
 * the stored `last_valid_value`; `lastValid` is that stored value, sent only when stale
 * (see POLICY_ROW_COLUMNS), so the common case carries nothing extra.
 */
export interface PolicyRow {
  key: string;
  value: unknown;
  lastValid?: unknown;
  stale?: boolean;
}

/** The columns of a PolicyRow, as SQL over ops_policy, for callers that read policy rows themselves. */
export const POLICY_ROW_COLUMNS = `key, value, value IS DISTINCT FROM last_valid_value AS stale,
  CASE WHEN value IS DISTINCT FROM last_valid_value THEN last_valid_value END AS "lastValid"`;

export interface PolicyReader {
  /** The keys this process knows (core and workloads'); any other key is a skill toggle. */
  readonly registry: PolicyRegistry;
  /**
   * Reads keys fresh from the database (inside `db`, which may be a transaction), so an
   * operator's UPDATE applies to the very next call. An invalid stored value is reported
   * and replaced by the last valid value: the one stored in the database (so it holds in
   * a fresh process too), else the last this process saw, else the safe fallback.
   */
  read<K extends string>(db: DbClient, keys: readonly K[]): Promise<PolicyValuesOf<K>>;
  /** The same for rows the caller already fetched (selected with POLICY_ROW_COLUMNS). */
  parse<K extends string>(rows: PolicyRow[], keys: readonly K[]): PolicyValuesOf<K>;
}

export function createPolicyReader(deps: { prisma: PrismaClient; logger: Logger; registry: PolicyRegistry }): PolicyReader {
  const lastValid = new Map<string, unknown>();
  const reported = new Map<string, string>();
  const capturing = new Map<string, string>();

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

  /**
   * Stores a valid value that is not yet the stored last valid one (an operator's SQL
   * UPDATE). Outside the caller's transaction, guarded on the value still being current,
   * once per value per process.
   */
  function capture(key: string, raw: unknown) {
    const text = JSON.stringify(raw);
    if (capturing.get(key) === text) return;
    capturing.set(key, text);
    deps.prisma.$executeRaw`
      UPDATE ops_policy SET last_valid_value = value, last_valid_at = now()
      WHERE key = ${key} AND value = ${text}::jsonb AND last_valid_value IS DISTINCT FROM value`
      .catch((error: unknown) => {
        capturing.delete(key);
        deps.logger.error({ err: error, policyKey: key }, 'could not store the last valid policy value');
      });
  }

  function storedLastValid(schema: z.ZodType, row: PolicyRow | undefined): unknown {
    if (row?.lastValid === undefined || row.lastValid === null) return undefined;
    const parsed = schema.safeParse(row.lastValid);
    return parsed.success ? parsed.data : undefined;
  }

  const reader: PolicyReader = {
    registry: deps.registry,
    async read(db, keys) {
      const rows = await db.$queryRaw<PolicyRow[]>`SELECT ${Prisma.raw(POLICY_ROW_COLUMNS)} FROM ops_policy WHERE key = ANY(${[...keys]}::text[])`;
      return reader.parse(rows, keys);
    },
    parse(rows, keys) {
      const byKey = new Map(rows.map((r) => [r.key, r]));
      const out = {} as Record<string, unknown>;
      for (const key of keys) {
        const { schema, default: fallback } = deps.registry.definitionOf(key);
        const row = byKey.get(key);
        if (!row) {
          out[key] = lastValid.get(key) ?? fallback;
          continue;
        }
        const parsed = schema.safeParse(row.value);
        if (parsed.success) {
          lastValid.set(key, parsed.data);
          reported.delete(key);
          if (row.stale) capture(key, row.value);
          else capturing.delete(key);
          out[key] = parsed.data;
        } else {
          report(key, row.value, zodIssues(parsed.error));
          out[key] = storedLastValid(schema, row) ?? lastValid.get(key) ?? fallback;
        }
      }
      return out as PolicyValuesOf<(typeof keys)[number]>;
    },
  };
  return reader;
}

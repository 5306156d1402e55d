import type { Logger } from '@opsloop/core';
import type { DbClient, PrismaClient } from '@opsloop/db';
import type { StepKindDefinition } from '../catalog.ts';
import { compileParamsSchema, jsonSchemaParams } from './paramsSchema.ts';

/** An `ops_step_kinds` row as stored. */
export interface StoredKind {
  name: string;
  skill: string;
  description: string;
  timeoutSeconds: number | null;
  maxAttempts: number | null;
  paramsSchema: unknown;
  createdAt: Date;
  updatedAt: Date;
}

/** A stored row after checking: `definition` when usable, else `problem` says why not. */
export interface RegisteredKind extends StoredKind {
  definition?: StepKindDefinition;
  problem?: string;
  /** The field the problem is in. */
  problemAt?: 'name' | 'skill' | 'paramsSchema';
}

/** Names a registered kind may not take: code kinds, and policy keys that are not skills. */
export interface ReservedNames {
  isCodeKind(name: string): boolean;
  /** The first segment of a code kind (`ops`, a workload's prefix): its patterns (`ops.*`) must keep meaning only code kinds. */
  isCodeNamespace(name: string): boolean;
  /** A policy key of the core or a workload that is not a skill toggle (e.g. `daily_quotas`). */
  isReservedKey(skill: string): boolean;
}

export const KIND_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;
export const SKILL_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * The same rules for a row the API wrote and a row written with SQL (which skipped the
 * API's checks): an invalid row is reported unusable with the reason, never thrown.
 */
export function checkStoredKind(row: StoredKind, reserved: ReservedNames): RegisteredKind {
  const unusable = (problemAt: RegisteredKind['problemAt'], problem: string): RegisteredKind => ({ ...row, problem, problemAt });
  if (reserved.isCodeKind(row.name)) return unusable('name', `"${row.name}" is defined in code; the registered row is ignored`);
  if (!KIND_NAME.test(row.name)) return unusable('name', 'the name is not a step kind name');
  if (reserved.isCodeNamespace(row.name)) return unusable('name', `"${row.name.split('.')[0]}." is the namespace of kinds defined in code`);
  if (reserved.isReservedKey(row.skill)) return unusable('skill', `the skill "${row.skill}" is a policy key, not a skill`);
  const compiled = compileParamsSchema(row.paramsSchema);
  if (!compiled.ok) return unusable('paramsSchema', `its params schema is invalid: ${compiled.problem}`);
  return {
    ...row,
    definition: {
      kind: row.name,
      skill: row.skill,
      executor: 'external',
      params: jsonSchemaParams(compiled.validate),
      timeoutSeconds: row.timeoutSeconds ?? undefined,
      maxAttempts: row.maxAttempts ?? undefined,
      description: row.description,
    },
  };
}

export async function readStoredKinds(db: DbClient, where: { kinds?: readonly string[]; skills?: readonly string[] } | 'all'): Promise<StoredKind[]> {
  if (where === 'all') {
    return db.$queryRaw<StoredKind[]>`
      SELECT name, skill, description, timeout_seconds AS "timeoutSeconds", max_attempts AS "maxAttempts",
             params_schema AS "paramsSchema", created_at AS "createdAt", updated_at AS "updatedAt"
      FROM ops_step_kinds ORDER BY name`;
  }
  return db.$queryRaw<StoredKind[]>`
    SELECT name, skill, description, timeout_seconds AS "timeoutSeconds", max_attempts AS "maxAttempts",
           params_schema AS "paramsSchema", created_at AS "createdAt", updated_at AS "updatedAt"
    FROM ops_step_kinds WHERE name = ANY(${[...(where.kinds ?? [])]}::text[]) OR skill = ANY(${[...(where.skills ?? [])]}::text[])`;
}

export interface RegisteredKinds {
  /** The rows for these kind names and skills: from the cache when it can be trusted, else one query. */
  lookup(names: { kinds: readonly string[]; skills: readonly string[] }): Promise<RegisteredKind[]>;
  /** Every row, read now. */
  list(): Promise<RegisteredKind[]>;
  check(row: StoredKind): RegisteredKind;
  /** A row changed (NOTIFY opsloop_catalog with its name; `*`: everything). */
  invalidate(name: string): void;
  /**
   * Caching is on only while a LISTEN connection would hear every change; without one
   * (it dropped, or none was started) every lookup reads the table.
   */
  setListening(on: boolean): void;
}

/**
 * Registered kinds with an in-process cache, because proposal intake is a hot path.
 * Freshness: a kind not in the cache is read from the table, so a kind registered on
 * another replica or with SQL is usable at once; a cached kind is dropped when the
 * table's trigger NOTIFYs its change (milliseconds after commit). A lookup that raced
 * with a change is returned but not cached.
 */
export function createRegisteredKinds(deps: { prisma: PrismaClient; logger: Logger; reserved: ReservedNames }): RegisteredKinds {
  const cache = new Map<string, RegisteredKind>();
  let listening = false;
  // Bumped by every invalidation: a read that started before one must not be cached.
  let generation = 0;
  const reported = new Set<string>();

  const check = (row: StoredKind): RegisteredKind => {
    const kind = checkStoredKind(row, deps.reserved);
    const fingerprint = `${row.name}:${row.updatedAt.toISOString()}:${kind.problem}`;
    if (kind.problem && !reported.has(fingerprint)) {
      reported.add(fingerprint);
      deps.logger.error({ stepKind: row.name, problem: kind.problem }, 'registered step kind is unusable');
    }
    return kind;
  };

  const clear = () => {
    generation++;
    cache.clear();
  };

  return {
    async lookup({ kinds, skills }) {
      const cachedWithSkill = (skill: string) => [...cache.values()].some((k) => k.skill === skill && k.definition);
      const missingKinds = listening ? kinds.filter((k) => !cache.has(k)) : [...kinds];
      const missingSkills = listening ? skills.filter((s) => !cachedWithSkill(s)) : [...skills];
      const fetched: RegisteredKind[] = [];
      if (missingKinds.length || missingSkills.length) {
        const startedAt = generation;
        for (const row of await readStoredKinds(deps.prisma, { kinds: missingKinds, skills: missingSkills })) fetched.push(check(row));
        if (listening && startedAt === generation) for (const k of fetched) cache.set(k.name, k);
      }
      const byName = new Map<string, RegisteredKind>(fetched.map((k) => [k.name, k]));
      if (listening) {
        for (const k of kinds) if (!byName.has(k) && cache.has(k)) byName.set(k, cache.get(k)!);
        for (const k of cache.values()) if (skills.includes(k.skill) && !byName.has(k.name)) byName.set(k.name, k);
      }
      return [...byName.values()];
    },
    async list() {
      return (await readStoredKinds(deps.prisma, 'all')).map(check);
    },
    check,
    invalidate(name) {
      if (name === '*') return clear();
      generation++;
      cache.delete(name);
    },
    setListening(on) {
      clear();
      listening = on;
    },
  };
}

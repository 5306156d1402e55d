import { z } from 'zod';
import { storedString } from '@opsloop/core';
import { KIND_NAME, SKILL_NAME, type RegisteredKinds } from './catalog/registeredKinds.ts';

/** What opsloop knows about a step kind. */
export interface StepKindDefinition<P extends z.ZodType = z.ZodType> {
  kind: string;
  /** The skill whose policy toggle gates proposals containing this kind. */
  skill: string;
  params: P;
  /** A handler running longer than this fails the attempt. (Default: 300) */
  timeoutSeconds?: number;
  /** Overrides `step_defaults.max_attempts` for this kind. */
  maxAttempts?: number;
  /** `builtin`: executed in-process; `external`: claimed over HTTP by an agent. */
  executor: 'builtin' | 'external';
  description?: string;
}

/** Finds step kinds and skills; what proposal validation needs. */
export interface KindLookup {
  get(kind: string): StepKindDefinition | undefined;
  /** True when some kind belongs to `skill`. */
  hasSkill(skill: string): boolean;
  /** Why a registered kind of that name cannot be used (its stored row is invalid). */
  problem?(kind: string): string | undefined;
}

/** The kinds defined in code (the core's and the workloads'). */
export interface CodeKinds extends KindLookup {
  kinds(executor?: 'builtin' | 'external'): string[];
  definitions(): StepKindDefinition[];
}

export interface StepCatalog {
  /** Kinds defined in code; a registered kind can never override one. */
  readonly code: CodeKinds;
  /**
   * Code kinds plus the registered kinds named in `kinds` or belonging to `skills`
   * (operators' kinds, from `ops_step_kinds`; see catalog/registeredKinds.ts).
   */
  resolve(names: { kinds?: readonly string[]; skills?: readonly string[] }): Promise<KindLookup>;
  /** Operators' kinds (`ops_step_kinds`); absent in a code-only catalogue. */
  readonly registered?: RegisteredKinds;
}

export function createCodeKinds(definitions: StepKindDefinition[]): CodeKinds {
  const byKind = new Map<string, StepKindDefinition>();
  for (const d of definitions) {
    if (byKind.has(d.kind)) throw new Error(`step kind ${d.kind} is defined twice`);
    byKind.set(d.kind, d);
  }
  const skills = new Set(definitions.map((d) => d.skill));
  return {
    get: (kind) => byKind.get(kind),
    hasSkill: (skill) => skills.has(skill),
    kinds: (executor) => [...byKind.values()].filter((d) => !executor || d.executor === executor).map((d) => d.kind),
    definitions: () => [...byKind.values()],
  };
}

/** Code kinds, plus operators' registered kinds when `registered` is given. */
export function createStepCatalog(definitions: StepKindDefinition[], registered?: RegisteredKinds): StepCatalog {
  const code = createCodeKinds(definitions);
  return {
    code,
    registered,
    async resolve({ kinds = [], skills = [] }) {
      // Only well-formed names reach the table: others cannot be registered anyway.
      const wantKinds = kinds.filter((k) => !code.get(k) && k.length <= 100 && KIND_NAME.test(k));
      const wantSkills = skills.filter((s) => !code.hasSkill(s) && SKILL_NAME.test(s));
      if (!registered || (wantKinds.length === 0 && wantSkills.length === 0)) return code;
      const found = new Map((await registered.lookup({ kinds: wantKinds, skills: wantSkills })).map((k) => [k.name, k]));
      return {
        get: (kind) => code.get(kind) ?? found.get(kind)?.definition,
        hasSkill: (skill) => code.hasSkill(skill) || [...found.values()].some((k) => k.skill === skill && k.definition),
        problem: (kind) => (code.get(kind) ? undefined : found.get(kind)?.problem),
      };
    },
  };
}

/**
 * The core's own step kinds, run by the in-process worker. External kinds (executed by
 * agents over HTTP, POST /api/ops/steps/claim) are registered by operators in
 * `ops_step_kinds`; the seeds' (x.post, tiktok.post, …) come with migration 006.
 */
export const DEFAULT_STEP_KINDS: StepKindDefinition[] = [
  {
    kind: 'ops.noop',
    skill: 'ops_internal',
    executor: 'builtin',
    timeoutSeconds: 30,
    params: z.object({ note: storedString().max(500).optional(), sleep_ms: z.number().int().min(0).max(25_000).optional() }).strict(),
  },
  {
    kind: 'ops.diagnose_failures',
    skill: 'ops_internal',
    executor: 'builtin',
    timeoutSeconds: 60,
    params: z.object({ window_minutes: z.number().int().min(1).max(10_080).default(60) }).strict(),
  },
  {
    kind: 'ops.analyze_engagement',
    skill: 'ops_internal',
    executor: 'builtin',
    timeoutSeconds: 60,
    params: z.object({ window_hours: z.number().int().min(1).max(720).default(24) }).strict(),
  },
];

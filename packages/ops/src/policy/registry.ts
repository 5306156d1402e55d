import type { z } from 'zod';
import { POLICY_FALLBACKS, POLICY_SCHEMAS, skillToggleSchema, type SkillToggle } from './schemas.ts';

/** One policy key: the shape of its value, the value used without a valid row, and what it is for. */
export interface PolicyKeyDefinition<T = unknown> {
  key: string;
  schema: z.ZodType<T>;
  /** Used while the key has no row, or has never had a valid one in this process. Choose the safe value. */
  default: T;
  /** One sentence for operators (GET /api/ops/policy, the console). */
  description: string;
}

const CORE_DESCRIPTIONS: Record<keyof typeof POLICY_SCHEMAS, string> = {
  system_enabled: 'Kill switch: when off nothing is approved or claimed; proposals wait as pending.',
  ops_internal: "Skill toggle: opsloop's own steps (diagnosis, analysis, no-op).",
  auto_approve: 'Step kinds approved without a person; never_step_kinds always wait for one.',
  daily_quotas: 'Per step kind: most steps approved per day (OPS_TIMEZONE). Kinds not listed have no quota.',
  step_defaults: 'Retry, lease and stale-recovery defaults for mission steps.',
  proposals: 'Pending proposals older than this become expired.',
  ops_monitor: 'Failure-rate alerting and monitoring thresholds (memory, CPU, 5xx rate, p95, queue age, backup age).',
  reaction_matrix: 'Event patterns that enqueue reactions (proposals), with probability and cooldown.',
  llm_budget: 'Most LLM tokens spent per day (OPS_TIMEZONE); past it calls are skipped.',
  retention: 'Days each kind of row is kept; pruned daily in batches (archive: pruned events to the backup destination first).',
};

/** The core's own keys. */
export const CORE_POLICY_KEYS: PolicyKeyDefinition[] = (Object.keys(POLICY_SCHEMAS) as (keyof typeof POLICY_SCHEMAS)[]).map((key) => ({
  key,
  schema: POLICY_SCHEMAS[key] as z.ZodType,
  default: POLICY_FALLBACKS[key],
  description: CORE_DESCRIPTIONS[key],
}));

/** The definition every unregistered key gets: a skill toggle, off until someone turns it on. */
export function skillToggleDefinition(skill: string): PolicyKeyDefinition<SkillToggle> {
  return { key: skill, schema: skillToggleSchema, default: { enabled: false }, description: `Skill toggle: ${skill}.` };
}

export interface PolicyRegistry {
  /** A registered key (core or workload), or undefined. */
  get(key: string): PolicyKeyDefinition | undefined;
  /** The registered key, or else the skill toggle of that name. */
  definitionOf(key: string): PolicyKeyDefinition;
  keys(): PolicyKeyDefinition[];
}

export function createPolicyRegistry(extra: PolicyKeyDefinition[] = []): PolicyRegistry {
  const byKey = new Map<string, PolicyKeyDefinition>();
  for (const d of [...CORE_POLICY_KEYS, ...extra]) {
    if (byKey.has(d.key)) throw new Error(`policy key ${d.key} is defined twice`);
    byKey.set(d.key, d);
  }
  return {
    get: (key) => byKey.get(key),
    definitionOf: (key) => byKey.get(key) ?? skillToggleDefinition(key),
    keys: () => [...byKey.values()],
  };
}

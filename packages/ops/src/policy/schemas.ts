import { z } from 'zod';
import { storedString } from '@opsloop/core';

/** Lease lengths a worker may ask for or policy may set (seconds). */
export const LEASE_SECONDS = { min: 5, max: 3600 } as const;

/** The value of a skill's policy row: every skill has one, named like the skill. */
export const skillToggleSchema = z.object({ enabled: z.boolean() }).strict();
export type SkillToggle = z.infer<typeof skillToggleSchema>;
const toggle = skillToggleSchema;
/** Minutes in 30 days: the longest window or cooldown any phase works with. */
const MAX_MINUTES = 43_200;
const kindPattern = storedString().regex(/^[a-z0-9_]+(\.[a-z0-9_]+|\.\*)?$|^\*$/, 'a step kind, "prefix.*" or "*"');

/**
 * The core's policy keys and the shape of their values. Workloads add theirs through
 * `Workload.policyKeys` (see registry.ts); any other key is a skill toggle. A stored value
 * that fails its schema is reported (event + log) while the last valid value keeps
 * working (see readPolicy.ts).
 */
export const POLICY_SCHEMAS = {
  system_enabled: toggle,
  ops_internal: toggle,
  auto_approve: z
    .object({
      enabled: z.boolean(),
      step_kinds: z.array(kindPattern).max(500).default([]),
      never_step_kinds: z.array(kindPattern).max(500).default([]),
    })
    .strict(),
  daily_quotas: z.record(storedString().min(1).max(100), z.number().int().min(0).max(1_000_000)),
  step_defaults: z
    .object({
      max_attempts: z.number().int().min(1).max(50).default(3),
      backoff_base_seconds: z.number().min(0).max(3600).default(10),
      backoff_max_seconds: z.number().min(0).max(86_400).default(900),
      lease_seconds: z.number().int().min(LEASE_SECONDS.min).max(LEASE_SECONDS.max).default(60),
      stale_after_minutes: z.number().int().min(1).max(1440).default(30),
    })
    .strict(),
  proposals: z.object({ pending_expiry_days: z.number().min(0.001).max(365).default(7) }).strict(),
  ops_monitor: z
    .object({
      failure_threshold: z.number().int().min(1).max(1_000_000).default(5),
      window_minutes: z.number().int().min(1).max(MAX_MINUTES).default(60),
      cooldown_minutes: z.number().int().min(0).max(MAX_MINUTES).default(60),
      heartbeat_missing_minutes: z.number().int().min(1).max(1440).default(15),
    })
    .strict(),
  reaction_matrix: z
    .object({
      patterns: z.array(
        z
          .object({
            name: storedString().min(1).max(100),
            event_kind: storedString().min(1).max(100),
            source: storedString().max(100).optional(),
            tags: z.array(storedString().max(100)).max(20).optional(),
            target_skill: storedString().min(1).max(100),
            probability: z.number().min(0).max(1),
            cooldown_minutes: z.number().min(0).max(MAX_MINUTES).default(0),
            template: z.object({
              title: storedString().min(1).max(300),
              steps: z.array(z.object({ kind: storedString().min(1).max(100), params: z.record(storedString(), z.unknown()).default({}) })).min(1).max(20),
            }),
          })
          .strict(),
      ).max(200),
    })
    .strict(),
  llm_budget: z.object({ daily_tokens: z.number().int().min(0).max(1_000_000_000) }).strict(),
} satisfies Record<string, z.ZodType>;

type CorePolicyValues = { [K in keyof typeof POLICY_SCHEMAS]: z.infer<(typeof POLICY_SCHEMAS)[K]> };

/**
 * The typed value of every policy key. A workload declares its own keys' types by
 * augmenting this interface (`declare module '@opsloop/ops' { interface PolicyValues { … } }`)
 * and registers their schemas at run time (`Workload.policyKeys`).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- extended by workloads
export interface PolicyValues extends CorePolicyValues {}

export type PolicyKey = keyof PolicyValues;
export type PolicyValue<K extends PolicyKey> = PolicyValues[K];

/** Used when a key's row is missing and no valid value was ever read: the safe choice. */
export const POLICY_FALLBACKS: CorePolicyValues = {
  system_enabled: { enabled: true },
  ops_internal: { enabled: true },
  auto_approve: { enabled: false, step_kinds: [], never_step_kinds: [] },
  daily_quotas: {},
  step_defaults: { max_attempts: 3, backoff_base_seconds: 10, backoff_max_seconds: 900, lease_seconds: 60, stale_after_minutes: 30 },
  proposals: { pending_expiry_days: 7 },
  ops_monitor: { failure_threshold: 5, window_minutes: 60, cooldown_minutes: 60, heartbeat_missing_minutes: 15 },
  reaction_matrix: { patterns: [] },
  llm_budget: { daily_tokens: 0 },
};

/** `x.post` matches `x.post`, `x.*` and `*`. */
export function kindMatches(kind: string, pattern: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return kind.startsWith(pattern.slice(0, -1));
  return kind === pattern;
}

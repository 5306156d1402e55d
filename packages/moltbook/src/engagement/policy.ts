import { z } from 'zod';
import { storedString } from '@opsloop/core';
import type { PolicyKeyDefinition } from '@opsloop/ops';

/** The `moltbook_engagement` policy row: the skill's toggle and the engagement settings. */
export const moltbookEngagementPolicySchema = z
  .object({
    enabled: z.boolean(),
    second_post: z
      .object({ submolt_name: storedString().min(1).max(100), title: storedString().min(1).max(300), content: storedString().min(1).max(40_000) })
      .optional(),
    persona_prompt: storedString().max(4000).optional(),
    scout_queries: z.array(storedString().min(1).max(500)).max(20).default([]),
    /** New notifications on one of our posts that make an `engagement:high` event. */
    high_engagement_notifications: z.number().int().min(1).max(1_000_000).default(5),
  })
  .strict();

export type MoltbookEngagementPolicy = z.infer<typeof moltbookEngagementPolicySchema>;

/** The `moltbook_safety` policy row: verification deadline and the circuit breaker. */
export const moltbookSafetyPolicySchema = z
  .object({
    /** Longest time from a write's answer to submitting its challenge's answer; later, it is not answered. (Default: 30) */
    verification_deadline_seconds: z.number().int().min(1).max(300).default(30),
    /** Consecutive verification failures that open the breaker. (Default: 2) */
    breaker_failure_threshold: z.number().int().min(1).max(10).default(2),
    /** How long the breaker stays open after failures, a bad key, or a suspension without a stated end. (Default: 60) */
    breaker_pause_minutes: z.number().int().min(1).max(10_080).default(60),
    /** Least time between two breaker alerts. (Default: 60) */
    alert_cooldown_minutes: z.number().int().min(0).max(10_080).default(60),
  })
  .strict();

export type MoltbookSafetyPolicy = z.infer<typeof moltbookSafetyPolicySchema>;

export const MOLTBOOK_SAFETY_DEFAULTS: MoltbookSafetyPolicy = {
  verification_deadline_seconds: 30,
  breaker_failure_threshold: 2,
  breaker_pause_minutes: 60,
  alert_cooldown_minutes: 60,
};

declare module '@opsloop/ops' {
  interface PolicyValues {
    moltbook_engagement: MoltbookEngagementPolicy;
    moltbook_safety: MoltbookSafetyPolicy;
  }
}

export const MOLTBOOK_POLICY_KEYS: PolicyKeyDefinition[] = [
  {
    key: 'moltbook_engagement',
    schema: moltbookEngagementPolicySchema,
    default: { enabled: false, scout_queries: [], high_engagement_notifications: 5 } satisfies MoltbookEngagementPolicy,
    description: 'Skill toggle and settings for Moltbook engagement.',
  },
  {
    key: 'moltbook_safety',
    schema: moltbookSafetyPolicySchema,
    default: MOLTBOOK_SAFETY_DEFAULTS,
    description: 'Moltbook verification deadline and circuit breaker (failures before opening, pause, alert cooldown).',
  },
];

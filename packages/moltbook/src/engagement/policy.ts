import { z } from 'zod';
import type { PolicyKeyDefinition } from '@opsloop/ops';

/** The `moltbook_engagement` policy row: the skill's toggle and the engagement settings. */
export const moltbookEngagementPolicySchema = z
  .object({
    enabled: z.boolean(),
    second_post: z
      .object({ submolt_name: z.string().min(1), title: z.string().min(1).max(300), content: z.string().min(1).max(40_000) })
      .optional(),
    persona_prompt: z.string().max(4000).optional(),
    scout_queries: z.array(z.string().min(1).max(500)).max(20).default([]),
    /** New notifications on one of our posts that make an `engagement:high` event. */
    high_engagement_notifications: z.number().int().min(1).default(5),
  })
  .strict();

export type MoltbookEngagementPolicy = z.infer<typeof moltbookEngagementPolicySchema>;

declare module '@opsloop/ops' {
  interface PolicyValues {
    moltbook_engagement: MoltbookEngagementPolicy;
  }
}

export const MOLTBOOK_POLICY_KEYS: PolicyKeyDefinition[] = [
  {
    key: 'moltbook_engagement',
    schema: moltbookEngagementPolicySchema,
    default: { enabled: false, scout_queries: [], high_engagement_notifications: 5 } satisfies MoltbookEngagementPolicy,
    description: 'Skill toggle and settings for Moltbook engagement.',
  },
];

import { z } from 'zod';
import { storedString } from '@opsloop/core';

/** Lease lengths a worker may ask for or policy may set (seconds). */
export const LEASE_SECONDS = { min: 5, max: 3600 } as const;

/**
 * `ops_monitor.thresholds`: the kotonoha operations table, evaluated by the heartbeat's
 * health phase from ops_system_metrics rows (every replica's) and the database. Bounded
 * so a typo cannot silence or flood the monitor.
 */
const monitorThresholds = z
  .object({
    enabled: z.boolean(),
    /** Any live process's latest RSS above this. */
    memory_mb: z.number().min(50).max(1_048_576),
    /** A live process above this CPU % in each of its last `cpu_samples` samples. */
    cpu_percent: z.number().min(1).max(6400),
    cpu_samples: z.number().int().min(1).max(60),
    /** 5xx share of all requests (every replica) over `http_window_minutes`, once at least `http_min_requests` were served. */
    http_5xx_rate: z.number().min(0.001).max(1),
    http_window_minutes: z.number().int().min(1).max(1440),
    http_min_requests: z.number().int().min(1).max(1_000_000),
    /** p95 response time over the same window. */
    p95_seconds: z.number().min(0.01).max(600),
    /** Oldest claimable queued step. */
    queue_age_minutes: z.number().min(1).max(10_080),
    /** No successful backup for this long. */
    backup_max_age_hours: z.number().min(1).max(720),
  })
  .strict();
export type MonitorThresholds = z.infer<typeof monitorThresholds>;
export const MONITOR_THRESHOLD_DEFAULTS: MonitorThresholds = {
  enabled: true,
  memory_mb: 500,
  cpu_percent: 80,
  cpu_samples: 5,
  http_5xx_rate: 0.05,
  http_window_minutes: 15,
  http_min_requests: 20,
  p95_seconds: 10,
  queue_age_minutes: 15,
  backup_max_age_hours: 26,
};

const retentionDays = z.number().int().min(1).max(3650);

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
      thresholds: monitorThresholds.default(MONITOR_THRESHOLD_DEFAULTS),
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
  retention: z
    .object({
      days: z
        .object({
          events: retentionDays,
          step_runs: retentionDays,
          heartbeat_runs: retentionDays,
          schedule_runs: retentionDays,
          alerts: retentionDays,
          system_metrics: retentionDays,
          llm_usage: retentionDays,
        })
        .strict(),
      /** Pruned events are written to the backup destination as gzip JSON lines first. */
      archive: z.boolean().default(false),
      /** Rows per DELETE statement (at most 5,000, so no statement holds locks for long). */
      batch_size: z.number().int().min(100).max(5000).default(5000),
      /** Pause between batches. */
      pause_ms: z.number().int().min(0).max(60_000).default(200),
    })
    .strict(),
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
  ops_monitor: { failure_threshold: 5, window_minutes: 60, cooldown_minutes: 60, heartbeat_missing_minutes: 15, thresholds: MONITOR_THRESHOLD_DEFAULTS },
  reaction_matrix: { patterns: [] },
  llm_budget: { daily_tokens: 0 },
  // Missing policy keeps everything: deleting is never the fallback.
  retention: {
    days: { events: 3650, step_runs: 3650, heartbeat_runs: 3650, schedule_runs: 3650, alerts: 3650, system_metrics: 3650, llm_usage: 3650 },
    archive: false,
    batch_size: 5000,
    pause_ms: 200,
  },
};

/** `x.post` matches `x.post`, `x.*` and `*`. */
export function kindMatches(kind: string, pattern: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return kind.startsWith(pattern.slice(0, -1));
  return kind === pattern;
}

import { z } from 'zod';

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
}

export interface StepCatalog {
  get(kind: string): StepKindDefinition | undefined;
  kinds(executor?: 'builtin' | 'external'): string[];
}

export function createStepCatalog(definitions: StepKindDefinition[]): StepCatalog {
  const byKind = new Map<string, StepKindDefinition>();
  for (const d of definitions) {
    if (byKind.has(d.kind)) throw new Error(`step kind ${d.kind} is defined twice`);
    byKind.set(d.kind, d);
  }
  return {
    get: (kind) => byKind.get(kind),
    kinds: (executor) => [...byKind.values()].filter((d) => !executor || d.executor === executor).map((d) => d.kind),
  };
}

const text = (max: number) => z.string().trim().min(1).max(max);

/**
 * The step kinds opsloop ships. External kinds are executed by agents over HTTP
 * (POST /api/ops/steps/claim); built-in kinds by the in-process worker.
 */
export const DEFAULT_STEP_KINDS: StepKindDefinition[] = [
  {
    kind: 'ops.noop',
    skill: 'ops_internal',
    executor: 'builtin',
    timeoutSeconds: 30,
    params: z.object({ note: z.string().max(500).optional(), sleep_ms: z.number().int().min(0).max(25_000).optional() }).strict(),
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
  { kind: 'x.post', skill: 'x_autopost', executor: 'external', params: z.object({ text: text(280), reply_to: z.string().max(64).optional() }).strict() },
  {
    kind: 'tiktok.post',
    skill: 'tiktok_autopost',
    executor: 'external',
    params: z.object({ caption: text(2200), video_url: z.url() }).strict(),
  },
  { kind: 'trends.scan', skill: 'trend_hunter', executor: 'external', params: z.object({ topics: z.array(text(100)).max(20).default([]) }).strict() },
  { kind: 'suffering.scan', skill: 'suffering_detector', executor: 'external', params: z.object({ window_hours: z.number().int().min(1).max(168).default(24) }).strict() },
  { kind: 'app.nudge', skill: 'app_nudge', executor: 'external', params: z.object({ audience: text(100), message: text(500) }).strict() },
];

import { z } from 'zod';
import { PermanentStepError, type StepHandler, type StepKindDefinition } from '@opsloop/ops';
import type { EngagementDeps } from './context.ts';
import { runFeedHeartbeat } from './feedHeartbeat.ts';
import { runReplyMonitor } from './replyMonitor.ts';
import { runScout } from './scout.ts';
import { runSecondPost } from './secondPost.ts';

const postId = z.string().min(1).max(100);

/** The Moltbook step kinds: params schemas for the catalogue (skill `moltbook_engagement`). */
export const MOLTBOOK_STEP_KINDS: StepKindDefinition[] = [
  { kind: 'moltbook.second_post', skill: 'moltbook_engagement', executor: 'builtin', timeoutSeconds: 60, params: z.object({}).strict() },
  {
    kind: 'moltbook.reply_monitor',
    skill: 'moltbook_engagement',
    executor: 'builtin',
    timeoutSeconds: 240,
    // A retry is safe (intents are recorded and re-checked first), and it is what makes a
    // crashed attempt end truthfully: the retry finds the reply that landed and succeeds.
    maxAttempts: 3,
    params: z.object({ max_replies: z.number().int().min(0).max(50).optional(), post_ids: z.array(postId).max(50).optional() }).strict(),
  },
  { kind: 'moltbook.heartbeat', skill: 'moltbook_engagement', executor: 'builtin', timeoutSeconds: 60, params: z.object({ feed_limit: z.number().int().min(1).max(100).default(15) }).strict() },
  {
    kind: 'moltbook.scout',
    skill: 'moltbook_engagement',
    executor: 'builtin',
    timeoutSeconds: 300,
    params: z
      .object({
        queries: z.array(z.string().min(1).max(500)).max(20).optional(),
        limit: z.number().int().min(1).max(50).default(50),
        top: z.number().int().min(1).max(100).default(15),
        min_similarity: z.number().min(0).max(1).default(0.35),
        min_matches: z.number().int().min(1).default(2),
        csv: z.boolean().default(false),
      })
      .strict(),
  },
];

/**
 * Handlers for the in-process worker. Without MOLTBOOK_API_KEY they fail at once with a
 * clear, permanent error instead of leaving steps queued forever.
 */
export function moltbookHandlers(deps: EngagementDeps | undefined): Map<string, StepHandler> {
  const need = (): EngagementDeps => {
    if (!deps) throw new PermanentStepError('Moltbook is not configured: set MOLTBOOK_API_KEY');
    return deps;
  };
  return new Map<string, StepHandler>([
    ['moltbook.second_post', () => runSecondPost(need())],
    // `stopping` fires first (shutdown began: nothing new is sent), `signal` on timeout or a lost lease.
    ['moltbook.reply_monitor', (params, ctx) => runReplyMonitor(need(), params, { signal: AbortSignal.any([ctx.stopping, ctx.signal]) })],
    ['moltbook.heartbeat', (params) => runFeedHeartbeat(need(), params)],
    ['moltbook.scout', (params) => runScout(need(), params)],
  ]);
}

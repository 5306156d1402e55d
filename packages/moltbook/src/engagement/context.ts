import type { Clock, Logger } from '@opsloop/core';
import type { MoltbookMetrics } from '../metrics.ts';
import type { PrismaClient } from '@opsloop/db';
import type { LlmClient, PolicyReader } from '@opsloop/ops';
import type { MoltbookClient } from '../client.ts';
import type { Comment, Post } from '../types.ts';

/** Writes the text of a reply. The LLM-backed writer falls back to `templateReply`. */
export type ReplyWriter = (input: { comment: Comment; post: Pick<Post, 'id' | 'title'>; persona?: string }) => Promise<string>;

/** What the Moltbook step handlers need; built once per process in service.ts. */
export interface EngagementDeps {
  prisma: PrismaClient;
  clock: Clock;
  logger: Logger;
  policy: PolicyReader;
  client: MoltbookClient;
  writeReply?: ReplyWriter;
  /** Extra posts to watch besides the state's list (MOLTBOOK_WATCH_POST_IDS). */
  watchPostIds: string[];
  /** Default for `max_replies` (MOLTBOOK_REPLY_MAX_PER_RUN). */
  maxRepliesPerRun: number;
  outputDir: string;
  /** Process identity, recorded with each reply intent. */
  workerId: string;
  /** Writes, verifications and rate-limit headroom on the service's registry. (Default: none) */
  metrics?: MoltbookMetrics;
  /** Where this key's breaker and pacing state live (`accountIdFor(apiKey)`). */
  accountId: string;
  /** Solves verification challenges the rules are not sure of. (Default: none) */
  llm?: LlmClient;
  /** Day boundary of the LLM budget (OPS_TIMEZONE). (Default: UTC) */
  timeZone?: string;
  /** Waits for pacing and re-checks; tests pass one that advances a fake clock. (Default: an abortable setTimeout) */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** setTimeout that ends early (without throwing) when `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * A deterministic reply, used when no LLM is configured or it fails. It names the
 * commenter and echoes their words, so two replies are never identical (identical
 * comments trip Moltbook's automod).
 */
export function templateReply({ comment }: { comment: Comment }): string {
  const who = comment.author?.name ? `@${comment.author.name}` : 'there';
  const words = comment.content.replace(/\s+/g, ' ').trim();
  const quote = words.length > 80 ? `${words.slice(0, 77)}…` : words;
  return `Thanks ${who}! You said "${quote}" — that's a good point, and I'm taking it on board.`;
}

import type { Clock, Logger } from '@opsloop/core';
import type { PrismaClient } from '@opsloop/db';
import type { PolicyReader } from '@opsloop/ops';
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

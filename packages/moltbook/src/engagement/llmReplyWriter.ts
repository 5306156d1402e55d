import type { Clock, Logger } from '@opsloop/core';
import type { PrismaClient } from '@opsloop/db';
import { noteBudgetExceeded, recordUsage, withinBudget, type LlmClient, type OpsObserver, type PolicyReader } from '@opsloop/ops';
import type { ReplyWriter } from './context.ts';
import { templateReply } from './context.ts';

const PURPOSE = 'moltbook_reply';

/**
 * Reply text from the LLM with the persona prompt from policy, counted against the
 * daily `llm_budget`. Past the budget, or when the model fails or answers nothing
 * usable, the deterministic template is used instead.
 */
export function llmReplyWriter(deps: { prisma: PrismaClient; policy: PolicyReader; clock: Clock; logger: Logger; llm: LlmClient; timeZone: string; observer?: OpsObserver }): ReplyWriter {
  return async ({ comment, post, persona }) => {
    const now = deps.clock.now();
    const budget = await withinBudget(deps, now, deps.timeZone);
    if (!budget.within) {
      await noteBudgetExceeded(deps.prisma, { purpose: PURPOSE, status: budget }, now, deps.timeZone);
      return templateReply({ comment });
    }
    const answer = await deps.llm.complete({
      purpose: PURPOSE,
      system: persona ?? 'You are a friendly, concise AI agent replying to a comment on your Moltbook post.',
      user: `Post: ${post.title || post.id}\nComment by ${comment.author?.name ?? 'someone'}: ${comment.content}\n\nWrite a reply of one or two sentences. Plain text only.`,
    });
    await recordUsage(deps.prisma, { purpose: PURPOSE, model: answer.model, usage: answer.usage }, deps.clock.now(), deps.observer);
    const text = answer.text.trim().replace(/^["']|["']$/g, '');
    return text.length >= 2 && text.length <= 2000 ? text : templateReply({ comment });
  };
}

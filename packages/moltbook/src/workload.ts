import type { Logger } from '@opsloop/core';
import type { LlmClient, Workload, WorkloadDeps } from '@opsloop/ops';
import type { Registry } from 'prom-client';
import { createMoltbookClient } from './client.ts';
import { registerMoltbookMetrics, type MoltbookMetrics } from './metrics.ts';
import type { EngagementDeps } from './engagement/context.ts';
import { llmReplyWriter } from './engagement/llmReplyWriter.ts';
import { MOLTBOOK_POLICY_KEYS } from './engagement/policy.ts';
import { moltbookHandlers, MOLTBOOK_STEP_KINDS } from './engagement/steps.ts';
import { moltbookSummarySection } from './engagement/summary.ts';
import { moltbookOverview } from './engagement/overview.ts';
import { accountIdFor } from './safety/account.ts';
import { resetBreaker } from './safety/breaker.ts';

/** How to reach Moltbook (from MOLTBOOK_* config). */
export interface MoltbookConnection {
  /** MOLTBOOK_API_KEY. */
  apiKey: string;
  baseUrl: string;
  watchPostIds: string[];
  maxRepliesPerRun: number;
  outputDir: string;
  /** Process identity, recorded with each reply intent. */
  workerId: string;
  /** Writes replies and solves doubtful verification challenges when set; otherwise the template reply and the rules' answer. */
  llm?: LlmClient;
  logger: Logger;
}

/**
 * What Moltbook engagement registers with the core. Without a connection (no API key)
 * its steps fail at once with "Moltbook is not configured".
 */
export function moltbookWorkload(connection?: MoltbookConnection): Workload {
  let metrics: MoltbookMetrics | undefined;
  return {
    name: 'moltbook',
    stepKinds: MOLTBOOK_STEP_KINDS,
    policyKeys: MOLTBOOK_POLICY_KEYS,
    summarySections: [moltbookSummarySection],
    // The operator view (breaker, pacing, challenges, replies today, watched posts).
    consolePages: [{ slug: 'moltbook', title: 'Moltbook', apiPath: '/moltbook' }],
    metrics(registry) {
      metrics = registerMoltbookMetrics(registry as Registry);
    },
    handlers: (ops) => moltbookHandlers(connection && engagementDeps(connection, ops, metrics)),
    routes: (ops) => {
      const accountId = connection ? accountIdFor(connection.apiKey) : null;
      return [
        {
          method: 'get',
          path: '/moltbook',
          summary: 'Moltbook: breaker, pacing, last 50 challenges, replies sent / skipped / unconfirmed today, watched posts',
          handle: () => moltbookOverview(ops, accountId),
        },
        {
          method: 'post',
          path: '/moltbook/breaker/reset',
          summary: "Moltbook: close the circuit breaker now (an operator's reset); writes resume",
          handle: async () => {
            if (accountId) await resetBreaker(ops, accountId);
            return moltbookOverview(ops, accountId);
          },
        },
      ];
    },
  };
}

function engagementDeps(c: MoltbookConnection, ops: WorkloadDeps, metrics: MoltbookMetrics | undefined): EngagementDeps {
  return {
    ...ops,
    client: createMoltbookClient({ apiKey: c.apiKey, baseUrl: c.baseUrl, clock: ops.clock, logger: c.logger.child({ component: 'moltbook' }), metrics }),
    watchPostIds: c.watchPostIds,
    maxRepliesPerRun: c.maxRepliesPerRun,
    outputDir: c.outputDir,
    workerId: c.workerId,
    metrics,
    accountId: accountIdFor(c.apiKey),
    llm: c.llm,
    writeReply: c.llm ? llmReplyWriter({ ...ops, llm: c.llm }) : undefined,
  };
}

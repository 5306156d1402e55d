import { setTimeout as sleep } from 'node:timers/promises';
import type { StepHandler } from './worker.ts';

/** opsloop's own step kinds (the `ops_internal` skill). */
export function opsHandlers(now: () => Date): Map<string, StepHandler> {
  return new Map<string, StepHandler>([
    [
      'ops.noop',
      // sleep_ms makes it a stand-in for a long handler (drills, shutdown tests); it gives
      // up as soon as the worker aborts it.
      async (params, { signal }) => {
        const ms = Number(params.sleep_ms ?? 0);
        if (ms > 0) await sleep(ms, undefined, { signal });
        return { ok: true, note: params.note ?? null };
      },
    ],
    [
      'ops.diagnose_failures',
      async (params, { prisma }) => {
        const since = new Date(now().getTime() - Number(params.window_minutes ?? 60) * 60_000);
        const failures = await prisma.$queryRaw<{ kind: string; error: string | null; count: number }[]>`
          SELECT kind, left(error, 200) AS error, count(*)::int AS count FROM ops_step_runs
          WHERE outcome IN ('failed', 'timed_out', 'lost') AND started_at >= ${since}::timestamptz
          GROUP BY kind, left(error, 200) ORDER BY count DESC LIMIT 10`;
        return { since, topFailures: failures };
      },
    ],
    [
      'ops.analyze_engagement',
      async (params, { prisma }) => {
        const since = new Date(now().getTime() - Number(params.window_hours ?? 24) * 3_600_000);
        const kinds = await prisma.$queryRaw<{ kind: string; count: number }[]>`
          SELECT kind, count(*)::int AS count FROM ops_events WHERE kind LIKE 'engagement:%' AND created_at >= ${since}::timestamptz
          GROUP BY kind ORDER BY count DESC`;
        return { since, engagement: kinds };
      },
    ],
  ]);
}

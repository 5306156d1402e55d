import { Counter, Gauge, type Registry } from 'prom-client';

/** Moltbook's own metrics, registered on the service's registry (counters only on the request path). */
export interface MoltbookMetrics {
  /** One POST (post, comment, …) and how it ended: `ok`, `rate_limited`, `http_<status>`, `timeout`, `network`, `invalid_response`. */
  write(operation: string, outcome: string): void;
  /** One verification challenge answered (`ok`, `failed`, …). */
  verification(outcome: string): void;
  /** `X-RateLimit-Remaining` as last seen, per bucket (`read` / `write`). */
  rateLimitRemaining(bucket: 'read' | 'write', remaining: number): void;
}

export function registerMoltbookMetrics(registry: Registry): MoltbookMetrics {
  const registers = [registry];
  const writes = new Counter({ name: 'opsloop_moltbook_writes_total', help: 'Moltbook write requests by operation and outcome', labelNames: ['operation', 'outcome'], registers });
  const verifications = new Counter({ name: 'opsloop_moltbook_verifications_total', help: 'Moltbook verification challenges by outcome', labelNames: ['outcome'], registers });
  const remaining = new Gauge({ name: 'opsloop_moltbook_rate_limit_remaining', help: 'Requests left in the current Moltbook rate-limit window', labelNames: ['bucket'], registers });
  return {
    write: (operation, outcome) => writes.inc({ operation, outcome }),
    verification: (outcome) => verifications.inc({ outcome }),
    rateLimitRemaining: (bucket, n) => remaining.set({ bucket }, n),
  };
}

/** `/posts/abc/comments` -> `/posts/:id/comments`: a label, never a raw id. */
export function operationOf(path: string): string {
  return path.split('?')[0]!.replace(/\/(posts|comments|agents|submolts)\/[^/]+/g, '/$1/:id');
}

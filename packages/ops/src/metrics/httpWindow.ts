/** Upper bounds (seconds) shared by the HTTP histogram and the stored per-minute samples. */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface HttpWindowSnapshot {
  requests: number;
  errors: number;
  /** Counts per bucket, the last one for +Inf. */
  buckets: { le: number | '+Inf'; n: number }[];
}

/**
 * HTTP requests since the last `take()`: what the system sampler stores each minute so
 * the heartbeat (on any replica) can compute the 5xx rate and p95 from rows.
 */
export class HttpWindow {
  private requests = 0;
  private errors = 0;
  private counts = new Array<number>(HTTP_BUCKETS.length + 1).fill(0);

  record(status: number, seconds: number): void {
    this.requests++;
    if (status >= 500) this.errors++;
    let i = 0;
    while (i < HTTP_BUCKETS.length && seconds > HTTP_BUCKETS[i]!) i++;
    this.counts[i]!++;
  }

  take(): HttpWindowSnapshot {
    const out: HttpWindowSnapshot = {
      requests: this.requests,
      errors: this.errors,
      buckets: this.counts.map((n, i) => ({ le: HTTP_BUCKETS[i] ?? '+Inf', n })),
    };
    this.requests = 0;
    this.errors = 0;
    this.counts.fill(0);
    return out;
  }
}

/**
 * The q-quantile of summed bucket counts, interpolated inside its bucket like
 * Prometheus's histogram_quantile; past the last finite bound it is that bound.
 */
export function quantileFromBuckets(buckets: { le: number | '+Inf'; n: number }[], q: number): number | null {
  const total = buckets.reduce((s, b) => s + b.n, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  let lower = 0;
  for (const b of buckets) {
    if (b.le === '+Inf') return lower;
    if (seen + b.n >= rank) return lower + (b.le - lower) * (b.n === 0 ? 1 : (rank - seen) / b.n);
    seen += b.n;
    lower = b.le;
  }
  return lower;
}

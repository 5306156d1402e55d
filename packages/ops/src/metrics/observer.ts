/**
 * Typed observability hooks: the loop reports what happened, once, and whoever listens
 * (Prometheus counters, tests) subscribes here instead of reaching into the loop. Every
 * hook is synchronous and must only bump in-memory counters: they run on the hot path
 * (claims, completions, proposals) and never touch the database.
 */
export interface OpsObserver {
  /** Steps leased to a worker; `runAfter` is when each became claimable. */
  stepsClaimed(steps: readonly { kind: string; runAfter: Date }[], now: Date): void;
  /** One attempt ended. `durationSeconds` is the run row's claim-to-end time. */
  stepSettled(kind: string, outcome: 'succeeded' | 'failed' | 'timed_out' | 'lost', durationSeconds: number | null): void;
  /** Leases found expired by stale recovery. */
  leasesExpired(count: number): void;
  /** A new proposal and the status it was decided into. */
  proposalCreated(source: string, status: string): void;
  heartbeatPhase(phase: string, durationSeconds: number, ok: boolean): void;
  /** One delivery attempt of an alert (false: failed, or no sink configured). */
  alertDelivery(kind: string, delivered: boolean): void;
  llmTokens(purpose: string, tokens: number): void;
}

/** A domain view as the JSON API sends it: dates become ISO strings. */
export type AsJson<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };

/** The API's JSON as the console reads it (only the fields it shows). */
export interface Proposal {
  id: string;
  title: string;
  skill: string;
  status: string;
  reason: string | null;
  proposedBy: string | null;
  source: string;
  missionId: string | null;
  traceId: string;
  steps: { kind: string; params?: unknown }[];
  createdAt: string;
  decidedAt: string | null;
}
export interface Step {
  id: string;
  position: number;
  kind: string;
  status: string;
  attempts: number;
  maxAttempts: number;
  leaseOwner: string | null;
  leaseExpiresAt: string | null;
  runAfter: string | null;
  error: string | null;
  result: unknown;
  params: unknown;
  startedAt: string | null;
  finishedAt: string | null;
}
export interface Mission {
  id: string;
  proposalId: string;
  title: string;
  skill: string;
  status: string;
  traceId: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  steps: Step[];
}
export interface OpsEvent {
  id: number;
  kind: string;
  source: string | null;
  traceId: string | null;
  missionId: string | null;
  stepId?: string | null;
  payload: unknown;
  createdAt: string;
}
export interface StepRun {
  id: number;
  stepId: string;
  attempt: number;
  kind: string;
  workerId: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  outcome: string;
  error: string | null;
}
export interface PolicyItem {
  key: string;
  value: unknown;
  updatedAt: string;
  valid?: boolean;
  description?: string;
}
export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}
export interface Alert {
  id: number;
  kind: string;
  message: string;
  deliveryStatus: string;
  lastError: string | null;
  createdAt: string;
}

import type { RateLimitInfo, VerificationChallenge } from './types.ts';

/**
 * Every failure of a Moltbook call is a MoltbookError. None of them carries request
 * headers, and server-provided text is scrubbed of the API key before it lands here.
 */

export interface RequestContext {
  method: string;
  /** Path below the base URL, with its query string. */
  path: string;
}

export class MoltbookError extends Error {
  readonly method: string | undefined;
  readonly path: string | undefined;

  constructor(message: string, context?: RequestContext) {
    super(message);
    this.name = new.target.name;
    this.method = context?.method;
    this.path = context?.path;
  }

  /** Whether a GET failing this way may be tried again (5xx, network, timeout). */
  get transient(): boolean {
    return false;
  }

  toJSON(): Record<string, unknown> {
    return { ...(this as object), name: this.name, message: this.message };
  }
}

export interface ApiErrorDetails {
  /** The server's own message (`error` of `{success:false}`, or NestJS `message` joined). */
  serverMessage: string;
  hint?: string | undefined;
  /** NestJS' `error` label, e.g. "Bad Request". */
  label?: string | undefined;
  /** The answer's `X-RateLimit-*` headers. */
  rateLimit?: RateLimitInfo | null;
  /** A verification challenge carried by the error body (it happens). */
  verification?: VerificationChallenge | null;
}

/** The API answered with a non-2xx status (or `success: false`). */
export class MoltbookApiError extends MoltbookError {
  readonly serverMessage: string;
  readonly hint: string | undefined;
  readonly label: string | undefined;
  readonly rateLimit: RateLimitInfo | null;
  readonly verification: VerificationChallenge | null;

  constructor(
    readonly status: number,
    details: ApiErrorDetails,
    context: RequestContext,
  ) {
    super(`Moltbook ${context.method} ${context.path} failed with ${status}: ${details.serverMessage}`, context);
    this.serverMessage = details.serverMessage;
    this.hint = details.hint;
    this.label = details.label;
    this.rateLimit = details.rateLimit ?? null;
    this.verification = details.verification ?? null;
  }

  override get transient(): boolean {
    return this.status >= 500;
  }
}

/** Which field of the 429 the retry time came from. */
export type RetryAfterSource = 'retry_after_seconds' | 'retry_after_minutes' | 'retry-after-header' | 'default';

/** A 429: a cooldown or a per-minute limit. Not retried by the client; the caller waits. */
export class MoltbookRateLimitError extends MoltbookApiError {
  constructor(
    details: ApiErrorDetails,
    context: RequestContext,
    readonly retryAfterMs: number,
    readonly retryAfterSource: RetryAfterSource,
    /** Comments left today, when the server says. */
    readonly dailyRemaining: number | undefined,
  ) {
    super(429, details, context);
  }
}

/**
 * A 401/403 saying the account is suspended (failed verification challenges). `endsAt`
 * is parsed out of the hint ("Suspension ends in N hours") when it says so.
 */
export class MoltbookSuspendedError extends MoltbookApiError {
  constructor(
    status: number,
    details: ApiErrorDetails,
    context: RequestContext,
    readonly endsAt: Date | null,
  ) {
    super(status, details, context);
  }
}

/** No answer within the timeout. A POST that timed out may still have landed. */
export class MoltbookTimeoutError extends MoltbookError {
  constructor(
    readonly timeoutMs: number,
    context: RequestContext,
  ) {
    super(`Moltbook ${context.method} ${context.path} timed out after ${timeoutMs} ms; a write may still have landed`, context);
  }

  override get transient(): boolean {
    return true;
  }
}

/** The connection failed or was cut before a response. A POST may still have landed. */
export class MoltbookNetworkError extends MoltbookError {
  constructor(
    readonly reason: string,
    context: RequestContext,
  ) {
    super(`Moltbook ${context.method} ${context.path} failed without a response (${reason}); a write may still have landed`, context);
  }

  override get transient(): boolean {
    return true;
  }
}

/** A 3xx. Redirects are never followed: they drop the Authorization header. */
export class MoltbookRedirectError extends MoltbookError {
  constructor(
    readonly status: number,
    readonly location: string | null,
    context: RequestContext,
  ) {
    super(
      `Moltbook ${context.method} ${context.path} answered ${status} redirect${location ? ` to ${location}` : ''}; ` +
        'following it would drop the Authorization header. Use https://www.moltbook.com/api/v1 as the base URL.',
      context,
    );
  }
}

/** A 2xx whose body is not JSON or does not match the expected shape. */
export class MoltbookResponseError extends MoltbookError {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[],
    context: RequestContext,
  ) {
    super(`Moltbook ${context.method} ${context.path} returned an unexpected body: ${message}`, context);
  }
}

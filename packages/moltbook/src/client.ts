import type { z } from 'zod';
import { backoffDelayMs, silentLogger, sleep as realSleep, systemClock, zodIssues, type Clock, type Logger } from '@opsloop/core';
import {
  MoltbookApiError,
  MoltbookError,
  MoltbookNetworkError,
  MoltbookRateLimitError,
  MoltbookRedirectError,
  MoltbookResponseError,
  MoltbookSuspendedError,
  MoltbookTimeoutError,
  type ApiErrorDetails,
  type RequestContext,
  type RetryAfterSource,
} from './errors.ts';
import {
  challengeInBody,
  agentResponse,
  commentPageResponse,
  createdCommentResponse,
  createdPostResponse,
  homeResponse,
  pickField,
  postPageResponse,
  postResponse,
  profileResponse,
  searchPageResponse,
  verifyResponse,
} from './schemas.ts';
import { operationOf, type MoltbookMetrics } from './metrics.ts';
import type {
  Agent,
  Comment,
  CommentPage,
  CreateCommentInput,
  CreatedComment,
  CreatedPost,
  CreatePostInput,
  FeedOptions,
  Home,
  ListAllCommentsOptions,
  ListCommentsOptions,
  ListPostsOptions,
  Post,
  PostPage,
  Profile,
  RateLimitInfo,
  SearchOptions,
  SearchPage,
  VerifyResult,
} from './types.ts';

export const MOLTBOOK_BASE_URL = 'https://www.moltbook.com/api/v1';
const PINNED_HOST = 'www.moltbook.com';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const DEFAULT_RETRY_AFTER_MS = 60_000;

export interface MoltbookClientOptions {
  /** The agent's key (`moltbook_sk_…`). Sent only as a bearer token, never logged. */
  apiKey: string;
  /** Must be on https://www.moltbook.com, or a loopback host for tests. (Default: https://www.moltbook.com/api/v1) */
  baseUrl?: string;
  /** (Default: global fetch) */
  fetch?: typeof fetch;
  /** Per attempt, covering the whole response body. (Default: 15000) */
  timeoutMs?: number;
  /** Extra attempts for a GET that failed transiently (5xx, network, timeout). POSTs are never retried. (Default: 2) */
  readRetries?: number;
  /** First backoff step between GET retries; doubles per attempt. (Default: 500) */
  retryBaseMs?: number;
  /** Longest backoff between GET retries. (Default: 5000) */
  retryMaxMs?: number;
  /** How the client waits between retries; tests pass a function that returns at once. (Default: setTimeout) */
  sleep?: (ms: number) => Promise<void>;
  /** Backoff jitter source. (Default: Math.random) */
  random?: () => number;
  /** Used to read an HTTP-date `Retry-After`. (Default: system clock) */
  clock?: Clock;
  /** (Default: silent) */
  logger?: Logger;
  /** Writes by outcome and rate-limit headroom. (Default: none) */
  metrics?: MoltbookMetrics;
}

export interface MoltbookClient {
  /** `POST /posts`. Never retried. */
  createPost(input: CreatePostInput): Promise<CreatedPost>;
  /** `GET /posts/{id}`. */
  getPost(id: string): Promise<Post>;
  /** `GET /posts/{id}/comments`: one page of top-level comments with their reply trees. */
  listComments(postId: string, options?: ListCommentsOptions): Promise<CommentPage>;
  /** Every page of `listComments`, concatenated. */
  listAllComments(postId: string, options?: ListAllCommentsOptions): Promise<Comment[]>;
  /** `POST /posts/{id}/comments`. Never retried: after an error, re-read the thread first. */
  createComment(postId: string, input: CreateCommentInput): Promise<CreatedComment>;
  /** `GET /home`. */
  getHome(): Promise<Home>;
  /** `GET /feed`: the personalised feed. */
  getFeed(options?: FeedOptions): Promise<PostPage>;
  /** `GET /posts`: all posts, or one submolt's. */
  listPosts(options?: ListPostsOptions): Promise<PostPage>;
  /** `GET /search`: semantic search; no similarity threshold is applied server-side. */
  search(options: SearchOptions): Promise<SearchPage>;
  /** `GET /agents/me`. */
  getMe(): Promise<Agent>;
  /** `GET /agents/profile?name=`. */
  getProfile(name: string): Promise<Profile>;
  /**
   * `POST /verify`: answers a verification challenge (`answer` with two decimals). Never
   * retried: Moltbook allows one attempt per code. A wrong or expired answer is a
   * MoltbookApiError (4xx).
   */
  verify(verificationCode: string, answer: string): Promise<VerifyResult>;
}

/**
 * Throws unless `url` is https://www.moltbook.com (exactly that host, default port) or a
 * loopback host (tests). The bare host redirects to www and the redirect drops the key.
 */
export function assertPinnedBaseUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MoltbookError(`Moltbook base URL is not a valid URL; use ${MOLTBOOK_BASE_URL}`);
  }
  if (parsed.username || parsed.password) {
    throw new MoltbookError(`Moltbook base URL must not carry credentials; use ${MOLTBOOK_BASE_URL}`);
  }
  if (LOOPBACK_HOSTS.has(parsed.hostname) && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) return;
  if (parsed.protocol !== 'https:' || parsed.host !== PINNED_HOST) {
    throw new MoltbookError(
      `Moltbook base URL must be on https://${PINNED_HOST} (got ${parsed.protocol}//${parsed.host}); ` +
        `other hosts redirect and drop the Authorization header. Use ${MOLTBOOK_BASE_URL}`,
    );
  }
}

/** Every comment of a thread in reading order: each comment followed by its replies. */
export function flattenComments(comments: readonly Comment[]): Comment[] {
  const out: Comment[] = [];
  const visit = (list: readonly Comment[]) => {
    for (const comment of list) {
      out.push(comment);
      visit(comment.replies);
    }
  };
  visit(comments);
  return out;
}

type Query = Record<string, string | number | undefined>;

interface RequestSpec<T> {
  method: 'GET' | 'POST';
  path: string;
  query?: Query;
  body?: unknown;
  schema: z.ZodType<T>;
}

export function createMoltbookClient(options: MoltbookClientOptions): MoltbookClient {
  const baseUrl = (options.baseUrl ?? MOLTBOOK_BASE_URL).replace(/\/+$/, '');
  assertPinnedBaseUrl(baseUrl);
  const apiKey = options.apiKey;
  if (!apiKey) throw new MoltbookError('Moltbook API key is empty');

  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const readRetries = Math.max(0, options.readRetries ?? 2);
  const retryBaseMs = options.retryBaseMs ?? 500;
  const retryMaxMs = options.retryMaxMs ?? 5_000;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger();

  /** Server-provided text could echo the key back; it never leaves this module unscrubbed. */
  const scrub = (value: string): string => value.split(apiKey).join('[redacted]');

  async function request<T>(spec: RequestSpec<T>): Promise<T> {
    return (await requestWithHeaders(spec)).data;
  }

  async function requestWithHeaders<T>(spec: RequestSpec<T>): Promise<{ data: T; rateLimit: RateLimitInfo | null }> {
    const context: RequestContext = { method: spec.method, path: pathWithQuery(spec.path, spec.query) };
    const attempts = spec.method === 'GET' ? readRetries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      try {
        const { json: body, rateLimit } = await send(spec, context);
        const parsed = spec.schema.safeParse(body);
        if (!parsed.success) {
          const issues = zodIssues(parsed.error).map((i) => ({ path: i.path, message: scrub(i.message) }));
          throw new MoltbookResponseError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues, context);
        }
        logger.debug({ method: context.method, path: context.path, attempt, ms: Date.now() - started }, 'moltbook request ok');
        if (spec.method !== 'GET') options.metrics?.write(operationOf(spec.path), 'ok');
        return { data: parsed.data, rateLimit };
      } catch (error) {
        if (!(error instanceof MoltbookError)) throw error;
        const log = { method: context.method, path: context.path, attempt, ms: Date.now() - started, error: error.message };
        if (spec.method !== 'GET') options.metrics?.write(operationOf(spec.path), writeOutcome(error));
        if (!error.transient || attempt >= attempts) {
          logger.warn(log, 'moltbook request failed');
          throw error;
        }
        const delayMs = backoffDelayMs(attempt - 1, retryBaseMs, retryMaxMs, random);
        logger.warn({ ...log, retryInMs: delayMs }, 'moltbook request failed; retrying');
        await sleep(delayMs);
      }
    }
  }

  async function send(spec: RequestSpec<unknown>, context: RequestContext): Promise<{ json: unknown; rateLimit: RateLimitInfo | null }> {
    const headers: Record<string, string> = { Authorization: `Bearer ${apiKey}`, Accept: 'application/json' };
    if (spec.body !== undefined) headers['Content-Type'] = 'application/json';
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(`${baseUrl}${context.path}`, {
        method: spec.method,
        headers,
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        redirect: 'manual',
        signal,
      });
      if ((response.status >= 300 && response.status < 400) || response.type === 'opaqueredirect') {
        await response.body?.cancel().catch(() => undefined);
        const location = response.headers.get('location');
        throw new MoltbookRedirectError(response.status, location === null ? null : scrub(location), context);
      }
      text = await response.text();
      const remaining = Number.parseInt(response.headers.get('x-ratelimit-remaining') ?? '', 10);
      if (Number.isFinite(remaining)) options.metrics?.rateLimitRemaining(spec.method === 'GET' ? 'read' : 'write', remaining);
    } catch (error) {
      if (error instanceof MoltbookError) throw error;
      if (signal.aborted) throw new MoltbookTimeoutError(timeoutMs, context);
      throw new MoltbookNetworkError(describe(error, scrub), context);
    }

    const json = parseJson(text);
    if (!response.ok || (isRecord(json) && json.success === false)) {
      throw errorFromResponse(response.status, json, text, response.headers, context);
    }
    if (json === undefined) {
      throw new MoltbookResponseError(`status ${response.status} with a body that is not JSON`, [], context);
    }
    return { json, rateLimit: rateLimitHeaders(response.headers) };
  }

  function errorFromResponse(status: number, json: unknown, text: string, headers: Headers, context: RequestContext): MoltbookApiError {
    const details = { ...describeErrorBody(json, text, scrub), rateLimit: rateLimitHeaders(headers), verification: challengeInBody(json) };
    if (status === 429) {
      const { ms, source } = retryAfter(json, headers, clock);
      const daily = numberField(json, 'daily_remaining', 'dailyRemaining');
      return new MoltbookRateLimitError(details, context, ms, source, daily);
    }
    if ((status === 401 || status === 403) && /suspend/i.test(`${details.serverMessage} ${details.hint ?? ''}`)) {
      return new MoltbookSuspendedError(status, details, context, suspensionEnd(`${details.serverMessage} ${details.hint ?? ''}`, clock));
    }
    return new MoltbookApiError(status, details, context);
  }

  const listComments = (postId: string, opts: ListCommentsOptions = {}) =>
    request({
      method: 'GET',
      path: `/posts/${encodeURIComponent(postId)}/comments`,
      query: { sort: opts.sort ?? 'new', limit: opts.limit, cursor: opts.cursor },
      schema: commentPageResponse,
    });

  return {
    createPost: async (input) => {
      const { data, rateLimit } = await requestWithHeaders({ method: 'POST', path: '/posts', body: input, schema: createdPostResponse });
      return { ...data, rateLimit };
    },
    getPost: (id) => request({ method: 'GET', path: `/posts/${encodeURIComponent(id)}`, schema: postResponse }),
    listComments,
    async listAllComments(postId, opts = {}) {
      const all: Comment[] = [];
      const seen = new Set<string>();
      let cursor: string | undefined;
      for (let page = 0; page < (opts.maxPages ?? 50); page++) {
        const result = await listComments(postId, { sort: opts.sort ?? 'new', limit: opts.limit ?? 100, cursor });
        all.push(...result.comments);
        if (!result.hasMore || !result.nextCursor || seen.has(result.nextCursor)) break;
        seen.add(result.nextCursor);
        cursor = result.nextCursor;
      }
      return all;
    },
    createComment: async (postId, input) => {
      const { data, rateLimit } = await requestWithHeaders({
        method: 'POST',
        path: `/posts/${encodeURIComponent(postId)}/comments`,
        body: input,
        schema: createdCommentResponse,
      });
      return { ...data, rateLimit };
    },
    verify: (verificationCode, answer) =>
      request({ method: 'POST', path: '/verify', body: { verification_code: verificationCode, answer }, schema: verifyResponse }),
    getHome: () => request({ method: 'GET', path: '/home', schema: homeResponse }),
    getFeed: (opts = {}) =>
      request({
        method: 'GET',
        path: '/feed',
        query: { sort: opts.sort, limit: opts.limit, filter: opts.filter, cursor: opts.cursor },
        schema: postPageResponse,
      }),
    listPosts: (opts = {}) =>
      request({
        method: 'GET',
        path: '/posts',
        query: { sort: opts.sort, limit: opts.limit, submolt: opts.submolt, cursor: opts.cursor },
        schema: postPageResponse,
      }),
    search: (opts) =>
      request({
        method: 'GET',
        path: '/search',
        query: { q: opts.q, type: opts.type, limit: opts.limit, cursor: opts.cursor },
        schema: searchPageResponse,
      }),
    getMe: () => request({ method: 'GET', path: '/agents/me', schema: agentResponse }),
    getProfile: (name) => request({ method: 'GET', path: '/agents/profile', query: { name }, schema: profileResponse }),
  };
}

// ---- helpers ------------------------------------------------------------------------------

function pathWithQuery(path: string, query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function parseJson(text: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A short reason for a failed fetch: the error's message and its cause's code. */
function describe(error: unknown, scrub: (s: string) => string): string {
  if (!(error instanceof Error)) return scrub(String(error));
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = cause && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  const parts = [error.message, cause?.message, code].filter((p): p is string => Boolean(p));
  return scrub(parts.join(': '));
}

/**
 * Reads both error shapes: Moltbook's `{success:false, error, hint}` and NestJS'
 * `{statusCode, message: string | string[], error}`.
 */
function describeErrorBody(json: unknown, text: string, scrub: (s: string) => string): ApiErrorDetails {
  const str = (v: unknown) => (typeof v === 'string' && v ? scrub(v) : undefined);
  if (!isRecord(json)) {
    return { serverMessage: scrub(text.trim().slice(0, 200)) || 'no error body' };
  }
  const message = Array.isArray(json.message) ? json.message.filter((m) => typeof m === 'string').join('; ') : json.message;
  const hint = str(json.hint);
  // NestJS puts the text in `message` and a status label in `error`; Moltbook the reverse.
  if (str(message)) return { serverMessage: str(message)!, hint, label: str(json.error) };
  if (str(json.error)) return { serverMessage: str(json.error)!, hint };
  return { serverMessage: 'no error message', hint };
}

function numberField(json: unknown, ...keys: string[]): number | undefined {
  const value = pickField(json, ...keys);
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** `retry_after_seconds`, then `retry_after_minutes`, then `Retry-After`, then 60 s. */
function retryAfter(json: unknown, headers: Headers, clock: Clock): { ms: number; source: RetryAfterSource } {
  const seconds = numberField(json, 'retry_after_seconds', 'retryAfterSeconds');
  if (seconds !== undefined && seconds >= 0) return { ms: Math.ceil(seconds * 1000), source: 'retry_after_seconds' };
  const minutes = numberField(json, 'retry_after_minutes', 'retryAfterMinutes');
  if (minutes !== undefined && minutes >= 0) return { ms: Math.ceil(minutes * 60_000), source: 'retry_after_minutes' };
  const header = headers.get('retry-after')?.trim();
  if (header) {
    if (/^\d+(\.\d+)?$/.test(header)) return { ms: Math.ceil(Number(header) * 1000), source: 'retry-after-header' };
    const at = Date.parse(header);
    if (Number.isFinite(at)) return { ms: Math.max(0, at - clock.now().getTime()), source: 'retry-after-header' };
  }
  return { ms: DEFAULT_RETRY_AFTER_MS, source: 'default' };
}

function writeOutcome(error: MoltbookError): string {
  if (error instanceof MoltbookRateLimitError) return 'rate_limited';
  if (error instanceof MoltbookApiError) return `http_${error.status}`;
  if (error instanceof MoltbookTimeoutError) return 'timeout';
  if (error instanceof MoltbookNetworkError) return 'network';
  return 'invalid_response';
}

function headerNumber(headers: Headers, name: string): number | null {
  const value = headers.get(name)?.trim();
  if (!value || !/^\d+(\.\d+)?$/.test(value)) return null;
  return Number(value);
}

/** `X-RateLimit-Limit` / `-Remaining` / `-Reset` (unix seconds), or null without them. */
function rateLimitHeaders(headers: Headers): RateLimitInfo | null {
  const limit = headerNumber(headers, 'x-ratelimit-limit');
  const remaining = headerNumber(headers, 'x-ratelimit-remaining');
  const reset = headerNumber(headers, 'x-ratelimit-reset');
  if (limit === null && remaining === null && reset === null) return null;
  return { limit, remaining, resetAt: reset === null ? null : new Date(reset * 1000) };
}

/** "Suspension ends in 10 hours" (or minutes, days) → when; null when the text does not say. */
export function suspensionEnd(text: string, clock: Clock): Date | null {
  const match = /ends?\s+in\s+(\d+(?:\.\d+)?)\s*(minute|min|hour|hr|day|week)s?/i.exec(text);
  if (!match) return null;
  const unit = match[2]!.toLowerCase();
  const ms = unit.startsWith('min') ? 60_000 : unit.startsWith('h') ? 3_600_000 : unit === 'day' ? 86_400_000 : 7 * 86_400_000;
  return new Date(clock.now().getTime() + Number(match[1]) * ms);
}

/**
 * A small chat-completion client over the official `openai` SDK, for OpenAI or any
 * server speaking its Chat Completions wire format.
 *
 * The SDK's own retries are off (`maxRetries: 0`): this module retries timeouts,
 * connection errors, 429 and 5xx itself, so the backoff is injectable and testable and
 * every attempt is visible in our logs. The API key is sent only as the SDK's bearer
 * header: it never appears in a log line or in a thrown error, even when a server
 * echoes it back in an error message.
 *
 * The SDK is imported on the first call, not at start-up: it is about 10 MB of resident
 * memory that a service without an API key, or one that has not promoted an insight yet,
 * does not need.
 */
import type OpenAI from 'openai';
import { backoffDelayMs, sleep as realSleep, systemClock, type Clock, type Logger } from '@opsloop/core';

export interface LlmUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface LlmCompletion {
  text: string;
  usage: LlmUsage;
  /** The model the server says answered (may differ from the requested one, e.g. a dated snapshot). */
  model: string;
}

export interface LlmRequest {
  system: string;
  user: string;
  /** What the call is for; recorded with its token usage (`ops_llm_usage.purpose`). */
  purpose: string;
  /** Ask for a JSON object (`response_format: json_object`). (Default: false) */
  json?: boolean;
  /** Aborts the call and any wait between retries. */
  signal?: AbortSignal;
}

export interface LlmClient {
  /** The requested model. */
  readonly model: string;
  complete(request: LlmRequest): Promise<LlmCompletion>;
}

export interface LlmClientOptions {
  /** Without a key there is no client: `createLlmClient` returns undefined and callers use their fallback. */
  apiKey?: string;
  /** (Default: https://api.openai.com/v1) */
  baseUrl?: string;
  model: string;
  /** Per attempt. (Default: 20000) */
  timeoutMs?: number;
  /** Extra attempts after a timeout, connection error, 429 or 5xx. (Default: 2) */
  maxRetries?: number;
  /** First backoff step; doubles per attempt. (Default: 500) */
  retryBaseMs?: number;
  /** Longest backoff step. (Default: 8000) */
  retryMaxMs?: number;
  /** A `retry-after` longer than this is not waited for: the call fails at once. (Default: 30000) */
  maxRetryAfterMs?: number;
  /** How the client waits between retries; tests pass one that returns at once. (Default: setTimeout) */
  sleep?: (ms: number) => Promise<void>;
  /** Backoff jitter source. (Default: Math.random) */
  random?: () => number;
  /** Used to read an HTTP-date `retry-after`. (Default: system clock) */
  clock?: Clock;
  logger: Logger;
}

export type LlmErrorCode =
  | 'timeout'
  | 'connection'
  | 'rate_limited'
  | 'server_error'
  | 'unauthorized'
  | 'bad_request'
  | 'aborted'
  | 'empty_response'
  | 'invalid_output';

/** An LLM call that failed for good (after retries, if the failure was retryable). */
export class LlmError extends Error {
  override name = 'LlmError';
  constructor(
    readonly code: LlmErrorCode,
    message: string,
    /** Attempts made, retries included. */
    readonly attempts: number,
    /** The HTTP status of the last attempt, when there was a response. */
    readonly status?: number,
  ) {
    super(message);
  }
}

const RETRYABLE = new Set<LlmErrorCode>(['timeout', 'connection', 'rate_limited', 'server_error']);
const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** Returns undefined without an API key, so "no key" is one `if` for callers. */
export function createLlmClient(options: LlmClientOptions): LlmClient | undefined {
  const apiKey = options.apiKey?.trim();
  if (!apiKey) return undefined;
  const maxRetries = options.maxRetries ?? 2;
  const retryBaseMs = options.retryBaseMs ?? 500;
  const retryMaxMs = options.retryMaxMs ?? 8000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
  const wait = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  let sdk: Promise<{ Sdk: typeof OpenAI; openai: OpenAI }> | undefined;
  const loadSdk = () =>
    (sdk ??= import('openai').then(({ default: Sdk }) => ({
      Sdk,
      // Every option the SDK would otherwise read from process.env is passed explicitly:
      // the config module stays the only reader of the environment.
      openai: new Sdk({
        apiKey,
        baseURL: options.baseUrl ?? DEFAULT_BASE_URL,
        organization: null,
        project: null,
        webhookSecret: null,
        timeout: options.timeoutMs ?? 20_000,
        maxRetries: 0,
        logLevel: 'off',
      }),
    })));
  const redact = (text: string) => redactSecrets(text, apiKey);

  async function attempt(openai: OpenAI, request: LlmRequest): Promise<LlmCompletion> {
    const response = await openai.chat.completions.create(
      {
        model: options.model,
        messages: [
          { role: 'system', content: request.system },
          { role: 'user', content: request.user },
        ],
        ...(request.json ? { response_format: { type: 'json_object' as const } } : {}),
      },
      { signal: request.signal },
    );
    const text = response.choices[0]?.message?.content;
    if (typeof text !== 'string' || text.trim() === '') {
      throw new LlmError('empty_response', 'LLM answered without message content', 1);
    }
    const usage = response.usage;
    return {
      text,
      model: response.model || options.model,
      usage: {
        prompt_tokens: usage?.prompt_tokens ?? 0,
        completion_tokens: usage?.completion_tokens ?? 0,
        total_tokens: usage?.total_tokens ?? (usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0),
      },
    };
  }

  return {
    model: options.model,
    async complete(request) {
      const { Sdk, openai } = await loadSdk();
      for (let n = 0; ; n++) {
        if (request.signal?.aborted) throw new LlmError('aborted', 'LLM call aborted', n);
        try {
          return await attempt(openai, request);
        } catch (error) {
          const failure = classify(Sdk, error, redact, clock);
          const attempts = n + 1;
          const retryAfterTooLong = failure.retryAfterMs !== undefined && failure.retryAfterMs > maxRetryAfterMs;
          if (!RETRYABLE.has(failure.code) || n >= maxRetries || retryAfterTooLong || request.signal?.aborted) {
            const suffix = retryAfterTooLong ? ` (retry-after ${failure.retryAfterMs} ms exceeds ${maxRetryAfterMs} ms)` : '';
            const message = `LLM call (${request.purpose}) failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${failure.message}${suffix}`;
            logger.warn({ purpose: request.purpose, model: options.model, attempts, code: failure.code, status: failure.status }, 'llm call failed');
            throw new LlmError(request.signal?.aborted ? 'aborted' : failure.code, message, attempts, failure.status);
          }
          const delayMs = failure.retryAfterMs ?? backoffDelayMs(n, retryBaseMs, retryMaxMs, random);
          logger.warn(
            { purpose: request.purpose, model: options.model, attempt: attempts, code: failure.code, status: failure.status, delayMs },
            'llm call failed; retrying',
          );
          await untilAborted(wait(delayMs), request.signal);
        }
      }
    },
  };
}

interface Failure {
  code: LlmErrorCode;
  message: string;
  status?: number;
  retryAfterMs?: number;
}

/** Maps an SDK (or our own) error to a code and a message that is safe to log. */
function classify(Sdk: typeof OpenAI, error: unknown, redact: (text: string) => string, clock: Clock): Failure {
  if (error instanceof LlmError) return { code: error.code, message: redact(error.message), status: error.status };
  if (error instanceof Sdk.APIUserAbortError) return { code: 'aborted', message: 'aborted' };
  if (error instanceof Sdk.APIConnectionTimeoutError) return { code: 'timeout', message: 'request timed out' };
  if (error instanceof Sdk.APIConnectionError) return { code: 'connection', message: `connection error: ${redact(error.message)}` };
  if (error instanceof Sdk.APIError) {
    const status = error.status;
    const message = `HTTP ${status ?? '?'}: ${redact(error.message)}`;
    if (status === 429) return { code: 'rate_limited', message, status, retryAfterMs: retryAfterMs(error.headers, clock) };
    if (status !== undefined && status >= 500) return { code: 'server_error', message, status, retryAfterMs: retryAfterMs(error.headers, clock) };
    if (status === 401 || status === 403) return { code: 'unauthorized', message, status };
    if (status === 408) return { code: 'timeout', message, status };
    return { code: 'bad_request', message, status };
  }
  return { code: 'connection', message: redact(error instanceof Error ? error.message : String(error)) };
}

/** Resolves with `promise`, or as soon as `signal` aborts (the caller then sees `signal.aborted`). */
function untilAborted(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** `retry-after-ms` (OpenAI's), then `retry-after` in seconds or as an HTTP date. */
function retryAfterMs(headers: Headers | undefined, clock: Clock): number | undefined {
  const ms = headers?.get('retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - clock.now().getTime()) : undefined;
}

/** Removes the key itself and anything shaped like an OpenAI key (`sk-…`) from text. */
export function redactSecrets(text: string, apiKey?: string): string {
  let out = apiKey ? text.split(apiKey).join('[redacted]') : text;
  out = out.replace(/\bsk-[A-Za-z0-9_*-]{6,}/g, 'sk-[redacted]');
  return out;
}

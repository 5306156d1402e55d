/**
 * A fake OpenAI Chat Completions server over real HTTP (node:http on 127.0.0.1, random
 * port) for tests, with a scripted queue of answers and failures.
 *
 *   const fake = await startFakeOpenAI({ apiKey: 'sk-test-…' });
 *   fake.enqueue({ content: '{"patterns": […]}' });
 *   fake.failNext({ status: 429, times: 1, retryAfter: 2 });
 *   const llm = createLlmClient({ apiKey: 'sk-test-…', baseUrl: `${fake.url}/v1`, … });
 *   …
 *   await fake.close();
 *
 * Harsher than OpenAI in one respect: a 401 echoes the presented key verbatim in its
 * message (OpenAI masks it), so tests prove the client redacts what servers send back.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export interface FakeCompletion {
  content: string;
  /** (Default: about one token per four characters) */
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** (Default: the requested model) */
  model?: string;
}

export interface FakeFailure {
  status: 400 | 401 | 403 | 404 | 429 | 500 | 502 | 503;
  /** How many requests in a row fail this way. (Default: 1) */
  times?: number;
  /** Seconds, sent as `retry-after`. */
  retryAfter?: number;
  message?: string;
}

export interface FakeOpenAIRequest {
  method: string;
  path: string;
  /** Whether the bearer token matched. The header itself is never recorded. */
  authorized: boolean;
  model?: string;
  messages?: { role: string; content: string }[];
  responseFormat?: unknown;
  /** Null while in flight, or when the client went away before the answer. */
  status: number | null;
  at: Date;
}

export interface FakeOpenAI {
  /** `http://127.0.0.1:<port>`; the SDK's base URL is `${url}/v1`. */
  readonly url: string;
  /** Every request received, oldest first. */
  readonly requests: FakeOpenAIRequest[];
  /** Completion requests (POST /v1/chat/completions) received so far. */
  completionCount(): number;
  /** The next successful request answers this. Answers are used in order. */
  enqueue(completion: FakeCompletion): void;
  /** The next `times` requests fail with `status`, before any queued answer is used. */
  failNext(failure: FakeFailure): void;
  /** The next `times` requests wait `ms` (real time) before being handled. */
  delayNext(ms: number, times?: number): void;
  close(): Promise<void>;
}

export interface FakeOpenAIOptions {
  /** The key clients must send as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** Answered when the queue is empty; without it an empty queue answers 500. (Default: none) */
  defaultCompletion?: FakeCompletion;
}

const ERROR_TYPES: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory', message: 'Forbidden' },
  404: { type: 'invalid_request_error', code: 'unknown_url', message: 'Unknown request URL' },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests' },
  500: { type: 'server_error', code: null, message: 'The server had an error while processing your request.' },
  502: { type: 'server_error', code: null, message: 'Bad gateway' },
  503: { type: 'server_error', code: null, message: 'The engine is currently overloaded, please try again later' },
};

export async function startFakeOpenAI(options: FakeOpenAIOptions): Promise<FakeOpenAI> {
  const requests: FakeOpenAIRequest[] = [];
  const answers: FakeCompletion[] = [];
  const failures: { failure: FakeFailure; remaining: number }[] = [];
  const delays: { ms: number; remaining: number }[] = [];
  const pendingDelays = new Set<() => void>();
  let closed = false;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) sendError(res, 500, { type: 'server_error', code: null, message: `fake server bug: ${String(error)}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', url).pathname;
    const raw = await readBody(req);
    let body: Record<string, unknown> | undefined;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    } catch {
      body = undefined;
    }
    const presented = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const entry: FakeOpenAIRequest = {
      method: req.method ?? 'GET',
      path,
      authorized: presented === options.apiKey,
      model: typeof body?.model === 'string' ? body.model : undefined,
      messages: Array.isArray(body?.messages) ? (body.messages as { role: string; content: string }[]) : undefined,
      responseFormat: body?.response_format,
      status: null,
      at: new Date(),
    };
    requests.push(entry);
    const reply = (status: number, send: () => void) => {
      if (res.destroyed) return; // the client gave up (timeout, abort)
      entry.status = status;
      send();
    };

    const delay = take(delays);
    if (delay) {
      await wait(delay.ms);
      if (closed) return;
    }
    if (entry.method !== 'POST' || path !== '/v1/chat/completions') {
      reply(404, () => sendError(res, 404, { ...ERROR_TYPES[404]!, message: `Unknown request URL: ${entry.method} ${path}` }));
      return;
    }
    if (!entry.authorized) {
      // OpenAI masks the key here; echoing it whole makes leaks visible in tests.
      reply(401, () => sendError(res, 401, { ...ERROR_TYPES[401]!, message: `Incorrect API key provided: ${presented ?? '(none)'}.` }));
      return;
    }
    const failure = take(failures);
    if (failure) {
      const kind = ERROR_TYPES[failure.failure.status] ?? ERROR_TYPES[500]!;
      const headers: Record<string, string> = failure.failure.retryAfter === undefined ? {} : { 'retry-after': String(failure.failure.retryAfter) };
      reply(failure.failure.status, () => sendError(res, failure.failure.status, { ...kind, message: failure.failure.message ?? kind.message }, headers));
      return;
    }
    if (!body || !Array.isArray(body.messages) || typeof body.model !== 'string') {
      reply(400, () => sendError(res, 400, { ...ERROR_TYPES[400]!, message: "'model' and 'messages' are required" }));
      return;
    }
    const answer = answers.shift() ?? options.defaultCompletion;
    if (!answer) {
      reply(500, () => sendError(res, 500, { type: 'server_error', code: null, message: 'fake: no completion enqueued' }));
      return;
    }
    const promptChars = entry.messages!.reduce((n, m) => n + String(m.content ?? '').length, 0);
    const prompt = answer.usage?.prompt_tokens ?? Math.ceil(promptChars / 4);
    const completion = answer.usage?.completion_tokens ?? Math.ceil(answer.content.length / 4);
    const model = answer.model ?? body.model;
    reply(200, () =>
      sendJson(res, 200, {
        id: `chatcmpl-${randomUUID().replaceAll('-', '')}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: answer.content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      }),
    );
  }

  function take<T extends { remaining: number }>(queue: T[]): T | undefined {
    const head = queue[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    return head;
  }

  function wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pendingDelays.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      pendingDelays.add(done);
    });
  }

  return {
    url,
    requests,
    completionCount: () => requests.filter((r) => r.method === 'POST' && r.path === '/v1/chat/completions').length,
    enqueue(completion) {
      answers.push(completion);
    },
    failNext(failure) {
      failures.push({ failure, remaining: failure.times ?? 1 });
    },
    delayNext(ms, times = 1) {
      delays.push({ ms, remaining: times });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const done of [...pendingDelays]) done();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: http.ServerResponse, status: number, error: { type: string; code: string | null; message: string }, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { message: error.message, type: error.type, param: null, code: error.code } }, headers);
}

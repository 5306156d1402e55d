import { CliError, EXIT, exitCodeForStatus } from './exitCodes.ts';

export interface ApiClientOptions {
  /** OPSLOOP_URL, e.g. http://127.0.0.1:3000 */
  baseUrl: string;
  /** OPS_API_TOKEN */
  token?: string;
  /** Per request (Default: 30000). */
  timeoutMs?: number;
}

interface ErrorBody {
  error?: { code?: string; message?: string; issues?: { path: string; message: string }[] };
}

/** Talks JSON to /api/ops and turns every non-2xx answer into a CliError with its exit code. */
export class ApiClient {
  constructor(private readonly o: ApiClientOptions) {}

  get<T = unknown>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    return this.request<T>('GET', withQuery(path, query));
  }

  post<T = unknown>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  put<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  /** A raw streaming request (SSE); the caller reads the body. */
  async stream(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    const res = await this.send(`/api/ops${path}`, { method: 'GET', headers: { ...this.auth(), accept: 'text/event-stream', ...headers }, signal });
    if (!res.ok) throw await toError(res);
    return res;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { ...this.auth(), accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.send(`/api/ops${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 30_000),
    });
    if (!res.ok) throw await toError(res);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  private auth(): Record<string, string> {
    if (!this.o.token) throw new CliError('OPS_API_TOKEN is not set (the API token of the server at OPSLOOP_URL)', EXIT.usage);
    return { authorization: `Bearer ${this.o.token}` };
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    const url = new URL(path, this.o.baseUrl);
    try {
      return await fetch(url, init);
    } catch (error) {
      if (init.signal?.aborted && (init.signal.reason as Error | undefined)?.name !== 'TimeoutError') throw error;
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
      throw new CliError(`cannot reach opsloop at ${this.o.baseUrl}: ${cause}`, EXIT.unreachable);
    }
  }
}

function withQuery(path: string, query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function toError(res: Response): Promise<CliError> {
  const text = await res.text().catch(() => '');
  let body: ErrorBody | undefined;
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    body = undefined;
  }
  const message = body?.error?.message ?? `HTTP ${res.status}`;
  const issues = body?.error?.issues?.map((i) => `\n  ${i.path || '(body)'}: ${i.message}`).join('') ?? '';
  const code = body?.error?.code ? ` (${body.error.code})` : '';
  return new CliError(`${message}${code}${issues}`, exitCodeForStatus(res.status));
}

import type { Request } from 'express';

export type ApiResult<T> = { ok: true; data: T } | { ok: false; status: number; message: string };

/**
 * The console reads through the same JSON API it sends changes to: one source of truth for
 * what operators see, and nothing the console shows that a script could not fetch. Requests
 * go back over loopback to the address this request came in on, with the API token (which
 * never reaches the browser).
 */
export function consoleApi(req: Request, apiToken: string) {
  const host = req.socket.localAddress ?? '127.0.0.1';
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${req.socket.localPort}`;
  return {
    async get<T>(path: string): Promise<ApiResult<T>> {
      const res = await fetch(`${base}/api/ops${path}`, {
        headers: { authorization: `Bearer ${apiToken}`, accept: 'application/json', 'x-request-id': `${String(req.id)}.console` },
        signal: AbortSignal.timeout(15_000),
      });
      if (res.ok) return { ok: true, data: (await res.json()) as T };
      const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
      return { ok: false, status: res.status, message: body.error?.message ?? `HTTP ${res.status}` };
    },
  };
}

export type ConsoleApi = ReturnType<typeof consoleApi>;

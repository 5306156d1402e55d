import type { ApiResult } from '../apiClient.ts';
import { html, type SafeHtml } from '../html.ts';
import { unavailable } from '../layout.ts';

/** Renders `ok` with the data, or a clear note saying which endpoint failed and why. */
export function orNote<T>(result: ApiResult<T>, what: string, ok: (data: T) => SafeHtml): SafeHtml {
  if (result.ok) return ok(result.data);
  if (result.status === 404) return unavailable(what, 'this server does not serve it yet');
  return unavailable(what, `${result.message} (HTTP ${result.status})`);
}

export function pager(nextCursor: string | null | undefined, base: string, query: URLSearchParams): SafeHtml {
  if (!nextCursor) return html``;
  const q = new URLSearchParams(query);
  q.set('cursor', nextCursor);
  return html`<p class="pager"><a class="btn" href="${base}?${q.toString()}">Older →</a></p>`;
}

/** Query-string value as a string, or undefined. */
export function q(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function select(name: string, label: string, options: readonly string[], current: string | undefined): SafeHtml {
  return html`<label>${label}<select name="${name}"><option value="">any</option>${options.map((o) => html`<option${o === current ? html` selected` : ''}>${o}</option>`)}</select></label>`;
}

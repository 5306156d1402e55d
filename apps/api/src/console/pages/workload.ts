import { html, jsonInline, table, time, type SafeHtml } from '../html.ts';
import { card, layout, type ConsolePageLink } from '../layout.ts';
import type { PageRequest } from '../router.ts';
import { orNote } from './common.ts';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function value(v: unknown): SafeHtml {
  if (v === null || v === undefined) return html`<span class="muted">—</span>`;
  if (typeof v === 'string') return ISO_TIME.test(v) ? time(v) : html`${v}`;
  if (typeof v === 'number' || typeof v === 'boolean') return html`${String(v)}`;
  return jsonInline(v, 100);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An array of objects as a table; its columns are the keys the rows have. */
function rowsTable(rows: unknown[]): SafeHtml {
  const objects = rows.map((r) => (isRecord(r) ? r : { value: r }));
  const keys = [...new Set(objects.slice(0, 50).flatMap((o) => Object.keys(o)))].slice(0, 12);
  return table(objects, keys.map((k) => ({ header: k, cell: (o: Record<string, unknown>) => value(o[k]) })), 'Nothing to show.');
}

/** Whatever JSON the workload's GET route answers, readably: tables for lists, facts for the rest. */
export function renderJson(data: unknown): SafeHtml {
  if (Array.isArray(data)) return rowsTable(data);
  if (!isRecord(data)) return value(data);
  const scalars = Object.entries(data).filter(([, v]) => !Array.isArray(v) && !isRecord(v));
  const nested = Object.entries(data).filter(([, v]) => Array.isArray(v) || isRecord(v));
  return html`${scalars.length ? html`<dl class="facts">${scalars.map(([k, v]) => html`<dt>${k}</dt><dd>${value(v)}</dd>`)}</dl>` : ''}
${nested.map(([k, v]) => card(k, Array.isArray(v) ? rowsTable(v) : renderJson(v), { wide: true }))}`;
}

export async function workloadPage({ api, ctx }: PageRequest, page: ConsolePageLink): Promise<SafeHtml> {
  const result = await api.get<unknown>(page.apiPath);
  return layout(ctx, {
    title: page.title,
    active: `/console/w/${encodeURIComponent(page.slug)}`,
    body: html`<p class="muted">From <code>GET /api/ops${page.apiPath}</code>.</p><div class="grid" data-refresh="30" id="workload" data-live>${orNote(result, page.title, renderJson)}</div>`,
  });
}

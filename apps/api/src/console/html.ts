/** HTML that is already escaped; only `html` and `raw` make one. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Part = SafeHtml | string | number | boolean | null | undefined | readonly Part[];

export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escape(String(part));
}

/** Template tag: every interpolated value is escaped unless it is SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((v, i) => (out += render(v) + strings[i + 1]!));
  return new SafeHtml(out);
}

export const raw = (s: string) => new SafeHtml(s);

/** Absolute time (UTC) with a relative one next to it; console.js keeps the relative part fresh. */
export function time(value: string | Date | null | undefined, empty = '—'): SafeHtml {
  if (!value) return html`<span class="muted">${empty}</span>`;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return html`${String(value)}`;
  const iso = d.toISOString();
  const abs = iso.replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
  return html`<time datetime="${iso}" title="${abs}"><span class="rel">${relative(d.getTime() - Date.now())}</span> <span class="abs">${abs}</span></time>`;
}

export function relative(deltaMs: number): string {
  const s = Math.round(Math.abs(deltaMs) / 1000);
  const text = s < 45 ? `${s}s` : s < 2700 ? `${Math.round(s / 60)}m` : s < 86_400 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`;
  return deltaMs <= 1000 ? `${text} ago` : `in ${text}`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

const TONE: Record<string, string> = {
  succeeded: 'ok', approved: 'ok', ok: 'ok', on: 'ok', enabled: 'ok', done: 'ok', delivered: 'ok', proposed: 'ok', completed: 'ok',
  running: 'info', queued: 'info', waiting: 'muted', pending: 'warn', partial: 'warn', skipped: 'muted', expired: 'muted', off: 'muted', disabled: 'muted',
  failed: 'bad', rejected: 'bad', cancelled: 'muted', dead: 'bad', error: 'bad', invalid: 'bad', open: 'bad', never: 'bad',
};

/** A status always carries its word; the colour only repeats it. */
export function badge(status: string | null | undefined): SafeHtml {
  const s = status ?? 'unknown';
  return html`<span class="badge tone-${TONE[s] ?? 'muted'}">${s}</span>`;
}

export interface Column<T> {
  header: string;
  cell: (row: T) => Part;
  /** `num` right-aligns; `wide` lets the column take the free space. */
  kind?: 'num' | 'wide' | 'nowrap';
}

/** A table that becomes stacked cards on a phone (labels from data-label). */
export function table<T>(rows: readonly T[], columns: Column<T>[], empty: Part, attrs: { id?: string; live?: boolean } = {}): SafeHtml {
  if (rows.length === 0) return html`<div class="empty"${attrs.id ? raw(` id="${escape(attrs.id)}"`) : ''}>${empty}</div>`;
  return html`<div class="table-wrap"><table class="data"${attrs.id ? raw(` id="${escape(attrs.id)}"`) : ''}>
<thead><tr>${columns.map((c) => html`<th class="${c.kind ?? ''}">${c.header}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${columns.map((c) => html`<td class="${c.kind ?? ''}" data-label="${c.header}"><div class="cell">${c.cell(r)}</div></td>`)}</tr>`)}</tbody>
</table></div>`;
}

export function json(value: unknown): SafeHtml {
  return html`<pre class="json">${JSON.stringify(value, null, 2)}</pre>`;
}

/** Short JSON for a table cell, the whole of it on hover. */
export function jsonInline(value: unknown, max = 80): SafeHtml {
  const text = JSON.stringify(value) ?? '';
  return html`<code class="inline" title="${text.length > max ? text.slice(0, 2000) : ''}">${text.length > max ? `${text.slice(0, max - 1)}…` : text}</code>`;
}

export function shortId(id: string | null | undefined): string {
  return id ? id.slice(0, 8) : '—';
}

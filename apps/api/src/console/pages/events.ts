import { html, time, jsonInline, shortId, type SafeHtml } from '../html.ts';
import { card, layout } from '../layout.ts';
import type { PageRequest } from '../router.ts';
import { orNote, q } from './common.ts';
import type { OpsEvent } from './types.ts';

export function eventRow(e: OpsEvent): SafeHtml {
  return html`<tr data-event-id="${e.id}"><td class="num" data-label="Id">${e.id}</td><td data-label="Kind"><code>${e.kind}</code></td><td data-label="At">${time(e.createdAt)}</td><td data-label="Trace">${e.traceId ? html`<a href="/console/events?trace_id=${e.traceId}">${shortId(e.traceId)}</a>` : '—'}</td><td class="wide" data-label="Payload">${jsonInline(e.payload, 120)}</td></tr>`;
}

export async function eventsPage({ req, api, ctx }: PageRequest): Promise<SafeHtml> {
  const kind = q(req.query.kind);
  const trace = q(req.query.trace_id);
  const query = new URLSearchParams({ limit: '100', latest: 'true', ...(kind ? { kind } : {}), ...(trace ? { trace_id: trace } : {}) });
  const events = await api.get<{ items: OpsEvent[] }>(`/events?${query}`);
  const filters = html`<form class="filters" method="get">
<label>Kind<input name="kind" value="${kind ?? ''}" placeholder="e.g. mission:* or step:failed"></label>
<label>Trace<input name="trace_id" value="${trace ?? ''}" placeholder="trace id"></label>
<button class="btn" type="submit">Filter</button>
<button class="btn" type="button" id="tail-pause" aria-pressed="false">Pause</button>
<span class="muted" id="tail-status" role="status">connecting…</span>
</form>`;
  const body = orNote(events, 'Events', ({ items }) => {
    const rows = [...items].reverse();
    const last = items.length ? items[items.length - 1]!.id : 0;
    return html`<div class="table-wrap"><table class="data" id="tail" data-kind="${kind ?? ''}" data-trace="${trace ?? ''}" data-last-id="${last}">
<thead><tr><th class="num">Id</th><th>Kind</th><th>At</th><th>Trace</th><th class="wide">Payload</th></tr></thead>
<tbody>${rows.map(eventRow)}</tbody></table></div>
${items.length ? '' : html`<div class="empty" id="tail-empty">No events${kind || trace ? ' match this filter' : ''} yet. New ones appear here live.</div>`}`;
  });
  return layout(ctx, {
    title: 'Events',
    active: '/console/events',
    body: card('Live tail, newest first', html`${filters}${body}`, { wide: true }),
  });
}

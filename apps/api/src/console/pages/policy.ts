import { html, badge, jsonInline, table, time, type SafeHtml } from '../html.ts';
import { card, layout } from '../layout.ts';
import type { PageRequest } from '../router.ts';
import { orNote } from './common.ts';
import type { PolicyItem } from './types.ts';

interface HistoryItem {
  eventId: number;
  key: string | null;
  old: unknown;
  new: unknown;
  changedBy: string | null;
  changedAt: string;
}

export async function policyPage({ api, ctx }: PageRequest): Promise<SafeHtml> {
  const [policy, history] = await Promise.all([api.get<{ items: PolicyItem[] }>('/policy'), api.get<{ items: HistoryItem[] }>('/policy/history?limit=30')]);
  const viewer = ctx.role === 'viewer';
  const keys = orNote(policy, 'Policy', ({ items }) =>
    html`<div class="policy-list">${items.map(
      (p) => html`<section class="card policy" id="policy-${p.key}">
<header><h2><code>${p.key}</code></h2>${p.valid === false ? badge('invalid') : ''}<span class="muted">updated ${time(p.updatedAt)}</span></header>
${p.description ? html`<p>${p.description}</p>` : ''}
<form class="policy-form" data-key="${p.key}" data-current="${JSON.stringify(p.value)}" novalidate>
  <label>Value (JSON)<textarea name="value" rows="${Math.min(16, Math.max(3, JSON.stringify(p.value, null, 2).split('\n').length + 1))}" spellcheck="false"${viewer ? html` readonly` : ''}>${JSON.stringify(p.value, null, 2)}</textarea></label>
  <div class="diff" hidden></div>
  <ul class="field-errors error" role="alert"></ul>
  <div class="form-buttons">
    <button type="button" class="btn" data-policy="preview">Preview change</button>
    <button type="submit" class="btn primary" data-policy="save"${viewer ? html` disabled title="Read-only session"` : ''}>Save</button>
  </div>
</form>
</section>`,
    )}</div>`,
  );
  const changes = orNote(history, 'Policy history', ({ items }) =>
    table(items, [
      { header: 'Key', cell: (h) => html`<code>${h.key ?? '?'}</code>` },
      { header: 'Changed', cell: (h) => time(h.changedAt) },
      { header: 'By', cell: (h) => h.changedBy ?? '—' },
      { header: 'Before', cell: (h) => jsonInline(h.old, 60) },
      { header: 'After', cell: (h) => jsonInline(h.new, 60), kind: 'wide' },
    ], 'No policy change recorded yet.'),
  );
  return layout(ctx, {
    title: 'Policy',
    active: '/console/policy',
    body: html`<p class="muted">Each value is checked against its key's schema by the server before it is saved; an invalid value changes nothing. Every change writes a <code>policy:changed</code> event.</p>
${keys}
${card('History', changes, { id: 'history', wide: true })}`,
  });
}

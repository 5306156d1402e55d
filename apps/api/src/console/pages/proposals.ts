import { html, badge, jsonInline, shortId, table, time, type SafeHtml } from '../html.ts';
import { action, card, layout, type PageContext } from '../layout.ts';
import type { PageRequest } from '../router.ts';
import { orNote, pager, q, select } from './common.ts';
import type { Page, Proposal } from './types.ts';

const STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const;

export function proposalActions(ctx: PageContext, p: Proposal): SafeHtml {
  if (p.status !== 'pending') return html``;
  return html`<span class="actions">${action(ctx, {
    label: 'Approve',
    method: 'POST',
    path: `/proposals/${p.id}/approve`,
    body: { by: 'console' },
    confirm: `Approve "${p.title}"? It still passes the kill switch, skill and quota gates.`,
    tone: 'primary',
    name: `Approve ${p.title}`,
  })}${action(ctx, {
    label: 'Reject',
    method: 'POST',
    path: `/proposals/${p.id}/reject`,
    confirm: `Reject "${p.title}"?`,
    reasonField: 'reason',
    reasonLabel: 'Reason (recorded on the proposal)',
    tone: 'danger',
    name: `Reject ${p.title}`,
  })}</span>`;
}

function columns(ctx: PageContext) {
  return [
    { header: 'Proposal', cell: (p: Proposal) => html`<span id="p-${p.id}"><strong>${p.title}</strong><br><span class="muted">${shortId(p.id)} · ${p.source}${p.proposedBy ? ` · ${p.proposedBy}` : ''}</span></span>`, kind: 'wide' as const },
    { header: 'Status', cell: (p: Proposal) => html`${badge(p.status)}${p.reason ? html`<br><span class="muted small">${p.reason}</span>` : ''}` },
    { header: 'Skill', cell: (p: Proposal) => html`<code>${p.skill}</code>` },
    { header: 'Steps', cell: (p: Proposal) => p.steps.map((s) => html`<div class="step-line"><code>${s.kind}</code>${JSON.stringify(s.params ?? {}) === '{}' ? '' : html`<span class="block">${jsonInline(s.params, 60)}</span>`}</div>`) },
    { header: 'Created', cell: (p: Proposal) => time(p.createdAt) },
    { header: 'Mission', cell: (p: Proposal) => (p.missionId ? html`<a href="/console/missions/${p.missionId}">${shortId(p.missionId)}</a>` : '—') },
    { header: '', cell: (p: Proposal) => proposalActions(ctx, p) },
  ];
}

export async function proposalsPage({ req, api, ctx }: PageRequest): Promise<SafeHtml> {
  const status = STATUSES.find((s) => s === q(req.query.status));
  const skill = q(req.query.skill);
  const query = new URLSearchParams({ limit: '50', ...(status ? { status } : {}), ...(skill ? { skill } : {}), ...(q(req.query.cursor) ? { cursor: q(req.query.cursor)! } : {}) });
  const [pending, recent] = await Promise.all([
    status || req.query.cursor ? undefined : api.get<Page<Proposal>>('/proposals?status=pending&limit=200'),
    api.get<Page<Proposal>>(`/proposals?${query}`),
  ]);
  const filters = html`<form class="filters" method="get">${select('status', 'Status', STATUSES, status)}<label>Skill<input name="skill" value="${skill ?? ''}" placeholder="any"></label><button class="btn" type="submit">Filter</button></form>`;
  return layout(ctx, {
    title: 'Proposals',
    active: '/console/proposals',
    body: html`<div data-stream="proposal:*" data-refresh="30">
${pending ? card('Waiting for a person', orNote(pending, 'Pending proposals', (p) => table(p.items, columns(ctx), 'Nothing waits for a person.', { id: 'pending-table' })), { id: 'pending', wide: true }) : ''}
${card(status ? `${status[0]!.toUpperCase()}${status.slice(1)} proposals` : 'All proposals, newest first', html`${filters}${orNote(recent, 'Proposals', (p) => html`${table(p.items.filter((x) => pending === undefined || x.status !== 'pending'), columns(ctx), 'No proposals match.')}${pager(p.nextCursor, '/console/proposals', query)}`)}`, { id: 'all', wide: true })}
</div>`,
  });
}

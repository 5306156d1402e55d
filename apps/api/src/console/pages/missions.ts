import { html, badge, duration, json, jsonInline, shortId, table, time, type SafeHtml } from '../html.ts';
import { action, card, layout, type PageContext } from '../layout.ts';
import type { PageRequest } from '../router.ts';
import { orNote, pager, q, select } from './common.ts';
import type { Alert, Mission, OpsEvent, Page, Proposal, StepRun } from './types.ts';

const STATUSES = ['queued', 'approved', 'running', 'succeeded', 'failed', 'cancelled'] as const;

function progress(m: Mission): string {
  return `${m.steps.filter((s) => s.status === 'succeeded').length}/${m.steps.length}`;
}

export async function missionsPage({ req, api, ctx }: PageRequest): Promise<SafeHtml> {
  const status = STATUSES.find((s) => s === q(req.query.status));
  const skill = q(req.query.skill);
  const query = new URLSearchParams({ limit: '50', ...(status ? { status } : {}), ...(skill ? { skill } : {}), ...(q(req.query.cursor) ? { cursor: q(req.query.cursor)! } : {}) });
  const missions = await api.get<Page<Mission>>(`/missions?${query}`);
  const filters = html`<form class="filters" method="get">${select('status', 'Status', STATUSES, status)}<label>Skill<input name="skill" value="${skill ?? ''}" placeholder="any"></label><button class="btn" type="submit">Filter</button></form>`;
  return layout(ctx, {
    title: 'Missions',
    active: '/console/missions',
    body: html`<div data-stream="mission:*" data-refresh="30">${card('Missions, newest first', html`${filters}${orNote(missions, 'Missions', (p) => html`${table(p.items, [
      { header: 'Mission', cell: (m) => html`<a href="/console/missions/${m.id}"><strong>${m.title}</strong></a><br><span class="muted">${shortId(m.id)}</span>`, kind: 'wide' },
      { header: 'Status', cell: (m) => badge(m.status) },
      { header: 'Skill', cell: (m) => html`<code>${m.skill}</code>` },
      { header: 'Steps', cell: (m) => html`${progress(m)} <span class="muted">${m.steps.map((s) => s.kind).join(', ')}</span>` },
      { header: 'Created', cell: (m) => time(m.createdAt) },
      { header: 'Finished', cell: (m) => time(m.finishedAt) },
    ], status || skill ? 'No missions match these filters.' : 'No missions yet: approved proposals become missions.')}${pager(p.nextCursor, '/console/missions', query)}`)}`, { id: 'missions', wide: true })}</div>`,
  });
}

function missionActions(ctx: PageContext, m: Mission): SafeHtml {
  const open = ['queued', 'approved', 'running'].includes(m.status);
  const retryable = ['failed', 'cancelled'].includes(m.status);
  return html`<span class="actions">${open ? action(ctx, { label: 'Cancel mission', method: 'POST', path: `/missions/${m.id}/cancel`, body: { by: 'console' }, confirm: `Cancel "${m.title}"? Queued and waiting steps are cancelled and running leases revoked.`, reasonField: 'reason', reasonLabel: 'Why (recorded in mission:cancelled)', tone: 'danger' }) : ''}${retryable ? action(ctx, { label: 'Retry', method: 'POST', path: `/missions/${m.id}/retry`, body: { by: 'console' }, confirm: `Retry "${m.title}" from its failed step? The same gates as a proposal apply.`, tone: 'primary' }) : ''}</span>`;
}

export async function missionPage({ req, api, ctx }: PageRequest): Promise<SafeHtml> {
  const id = String(req.params.id);
  const result = await api.get<{ mission: Mission }>(`/missions/${encodeURIComponent(id)}`);
  if (!result.ok) {
    return layout(ctx, { title: 'Mission', active: '/console/missions', body: html`<div class="empty">${result.status === 404 || result.status === 400 ? 'No such mission.' : result.message} <a href="/console/missions">All missions</a></div>` });
  }
  const m = result.data.mission;
  const [runs, events, proposal, alerts] = await Promise.all([
    api.get<{ items: StepRun[] }>(`/missions/${m.id}/runs`),
    api.get<{ items: OpsEvent[] }>(`/events?trace_id=${m.traceId}&limit=1000`),
    api.get<{ proposal: Proposal }>(`/proposals/${m.proposalId}`),
    api.get<{ items: Alert[] }>('/alerts?limit=50'),
  ]);
  const summary = html`<dl class="facts">
<dt>Status</dt><dd>${badge(m.status)}</dd>
<dt>Skill</dt><dd><code>${m.skill}</code></dd>
<dt>Proposal</dt><dd>${proposal.ok ? html`${proposal.data.proposal.title} ${badge(proposal.data.proposal.status)} <span class="muted">${proposal.data.proposal.source}${proposal.data.proposal.proposedBy ? ` · ${proposal.data.proposal.proposedBy}` : ''}</span>` : shortId(m.proposalId)}</dd>
<dt>Trace</dt><dd><a href="/console/events?trace_id=${m.traceId}"><code>${m.traceId}</code></a></dd>
<dt>Created</dt><dd>${time(m.createdAt)}</dd>
<dt>Started</dt><dd>${time(m.startedAt)}</dd>
<dt>Finished</dt><dd>${time(m.finishedAt)}</dd>
</dl>`;
  const steps = table(m.steps, [
    { header: '#', cell: (s) => s.position + 1, kind: 'num' },
    { header: 'Kind', cell: (s) => html`<code>${s.kind}</code><br>${jsonInline(s.params, 60)}`, kind: 'wide' },
    { header: 'Status', cell: (s) => badge(s.status) },
    { header: 'Attempts', cell: (s) => `${s.attempts}/${s.maxAttempts}`, kind: 'num' },
    { header: 'Lease', cell: (s) => (s.leaseOwner ? html`<code>${s.leaseOwner}</code><br>until ${time(s.leaseExpiresAt)}` : '—') },
    { header: 'Result / error', cell: (s) => (s.error ? html`<span class="error-text">${s.error}</span>` : s.result === null || s.result === undefined ? '—' : jsonInline(s.result, 80)) },
  ], 'This mission has no steps.');
  const attempts = orNote(runs, 'Attempts', ({ items }) =>
    table(items, [
      { header: 'Step', cell: (r) => html`#${(m.steps.find((s) => s.id === r.stepId)?.position ?? 0) + 1} <code>${r.kind}</code>` },
      { header: 'Attempt', cell: (r) => r.attempt, kind: 'num' },
      { header: 'Worker', cell: (r) => html`<code>${r.workerId}</code>` },
      { header: 'Outcome', cell: (r) => badge(r.outcome) },
      { header: 'Started', cell: (r) => time(r.startedAt) },
      { header: 'Took', cell: (r) => duration(r.durationMs), kind: 'num' },
      { header: 'Error', cell: (r) => r.error ?? '', kind: 'wide' },
    ], 'No attempt yet: the first step waits for a worker to claim it.'),
  );
  const traceAlerts = alerts.ok ? alerts.data.items.filter((a) => JSON.stringify(a).includes(m.id) || JSON.stringify(a).includes(m.traceId)) : [];
  const timeline = orNote(events, 'Events', ({ items }) =>
    items.length || traceAlerts.length
      ? html`<ol class="timeline" id="timeline" data-trace="${m.traceId}" data-last-id="${items.length ? items[items.length - 1]!.id : 0}">${items.map(timelineItem)}${traceAlerts.map((a) => html`<li class="tl-alert"><span class="tl-kind">alert: ${a.kind}</span> ${a.message} ${time(a.createdAt)}</li>`)}</ol>`
      : html`<div class="empty">No events yet for this trace.</div>`,
  );
  return layout(ctx, {
    title: m.title,
    active: '/console/missions',
    actions: missionActions(ctx, m),
    body: html`<div class="grid" data-stream="*" data-trace="${m.traceId}" data-refresh="30">
${card('Mission', summary, { id: 'mission-facts' })}
${card('Trace timeline (live)', timeline, { id: 'trace' })}
${card('Steps', steps, { id: 'steps', wide: true })}
${card('Every attempt', attempts, { id: 'attempts', wide: true })}
</div>`,
  });
}

export function timelineItem(e: OpsEvent): SafeHtml {
  const group = e.kind.split(':')[0] ?? 'event';
  return html`<li class="tl-${group}" data-event-id="${e.id}"><span class="tl-kind">${e.kind}</span> ${time(e.createdAt)}${e.payload && JSON.stringify(e.payload) !== '{}' ? html`<details><summary>payload</summary>${json(e.payload)}</details>` : ''}</li>`;
}

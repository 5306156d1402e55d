import { html, badge, jsonInline, table, time, type SafeHtml } from '../html.ts';
import { action, card, layout } from '../layout.ts';
import type { PageRequest } from '../router.ts';
import { orNote } from './common.ts';
import type { TriggerRuleView } from '@opsloop/ops';
import type { Alert, AsJson } from './types.ts';

type TriggerRule = AsJson<TriggerRuleView>;
interface Reaction {
  id: number;
  event_id: number;
  pattern: string;
  target_skill: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  proposal_id: string | null;
  created_at: string;
}
interface Job {
  name: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  run: string;
  target: string;
  running: boolean;
  catchUp?: string;
  lastRun: { outcome: string; scheduledFor: string; cause?: string; requestedBy?: string | null; reason?: string | null; error: string | null; runner?: string } | null;
  nextRunAt: string | null;
}

const RULE_EXAMPLE = {
  name: 'mission-failures',
  description: 'Diagnose when missions keep failing',
  event_kind: 'mission:failed',
  condition: { count_at_least: 3, window_minutes: 60, where: [] },
  cooldown_minutes: 60,
  proposal_template: { title: 'Diagnose failures', skill: 'ops_internal', steps: [{ kind: 'ops.diagnose_failures', params: {} }] },
  enabled: true,
};

export async function triggersPage({ api, ctx }: PageRequest): Promise<SafeHtml> {
  const rules = await api.get<{ items: TriggerRule[] }>('/triggers');
  const viewer = ctx.role === 'viewer';
  const list = orNote(rules, 'Trigger rules', ({ items }) =>
    table(items, [
      { header: 'Rule', cell: (r) => html`<strong>${r.name}</strong>${r.description ? html`<br><span class="muted">${r.description}</span>` : ''}`, kind: 'wide' },
      { header: 'On', cell: (r) => html`<code>${r.event_kind}</code><br>${jsonInline(r.condition, 50)}` },
      { header: 'State', cell: (r) => badge(r.enabled ? 'enabled' : 'disabled') },
      { header: 'Fired', cell: (r) => r.fire_count, kind: 'num' },
      { header: 'Last fired', cell: (r) => time(r.last_fired_at, 'never') },
      { header: 'Cooldown until', cell: (r) => time(r.cooldown_until) },
      {
        header: '',
        cell: (r) => html`<span class="actions">${action(ctx, { label: r.enabled ? 'Disable' : 'Enable', method: 'POST', path: `/triggers/${r.id}/${r.enabled ? 'disable' : 'enable'}`, body: { by: 'console' }, confirm: `${r.enabled ? 'Disable' : 'Enable'} rule ${r.name}?`, tone: r.enabled ? 'plain' : 'primary' })}${action(ctx, { label: 'Delete', method: 'DELETE', path: `/triggers/${r.id}`, confirm: `Delete rule ${r.name}? This cannot be undone.`, tone: 'danger' })}</span>`,
      },
    ], 'No trigger rules. Create one below.'),
  );
  const create = html`<form class="json-form" data-method="POST" data-path="/triggers" novalidate>
<p class="muted">Validated by the server with the same schemas the evaluator uses; an invalid rule is refused with each wrong field.</p>
<label>Rule (JSON)<textarea name="body" rows="14" spellcheck="false"${viewer ? html` readonly` : ''}>${JSON.stringify(RULE_EXAMPLE, null, 2)}</textarea></label>
<ul class="field-errors error" role="alert"></ul>
<div class="form-buttons"><button type="submit" class="btn primary"${viewer ? html` disabled title="Read-only session"` : ''}>Create rule</button></div>
</form>`;
  return layout(ctx, {
    title: 'Triggers',
    active: '/console/triggers',
    body: html`<div data-stream="trigger:*">${card('Trigger rules', list, { id: 'rules', wide: true })}</div>${card('New rule', create, { wide: true })}`,
  });
}

export async function reactionsPage({ api, ctx }: PageRequest): Promise<SafeHtml> {
  const reactions = await api.get<{ items: Reaction[] }>('/reactions?limit=100');
  const list = orNote(reactions, 'Reactions', ({ items }) =>
    table(items, [
      { header: 'Id', cell: (r) => r.id, kind: 'num' },
      { header: 'Pattern', cell: (r) => html`<code>${r.pattern}</code> → <code>${r.target_skill}</code>`, kind: 'wide' },
      { header: 'Status', cell: (r) => html`${badge(r.status)}${r.last_error ? html`<br><span class="error-text small">${r.last_error}</span>` : ''}` },
      { header: 'Attempts', cell: (r) => r.attempts, kind: 'num' },
      { header: 'Next attempt', cell: (r) => (r.status === 'queued' ? time(r.next_attempt_at) : '—') },
      { header: 'Proposal', cell: (r) => (r.proposal_id ? html`<a href="/console/proposals#p-${r.proposal_id}">${r.proposal_id.slice(0, 8)}</a>` : '—') },
      { header: 'Queued', cell: (r) => time(r.created_at) },
      { header: '', cell: (r) => (r.status === 'dead' ? action(ctx, { label: 'Requeue', method: 'POST', path: `/reactions/${r.id}/requeue`, body: { by: 'console' }, confirm: `Requeue reaction ${r.id} with fresh attempts?`, tone: 'primary' }) : '') },
    ], 'No reactions yet: they are queued when events match the reaction matrix.'),
  );
  return layout(ctx, { title: 'Reactions', active: '/console/reactions', body: html`<div data-stream="reaction:*">${card('Reaction queue, newest first', list, { id: 'reactions', wide: true })}</div>` });
}

export async function schedulePage({ api, ctx }: PageRequest): Promise<SafeHtml> {
  const schedule = await api.get<{ enabled: boolean; jobs: Job[] }>('/schedule');
  const list = orNote(schedule, 'Schedule', (s) =>
    html`${s.enabled ? '' : html`<p class="notice">The scheduler is off in this process (SCHEDULER_ENABLED=false).</p>`}${table(s.jobs, [
      { header: 'Job', cell: (j) => html`<strong>${j.name}</strong><br><span class="muted">${j.run}: ${j.target}</span>`, kind: 'wide' },
      { header: 'When', cell: (j) => html`<code>${j.cron}</code> <span class="muted">${j.timezone}</span>` },
      { header: 'State', cell: (j) => html`${badge(j.enabled ? 'enabled' : 'disabled')}${j.running ? html` ${badge('running')}` : ''}` },
      {
        header: 'Last run',
        cell: (j) =>
          j.lastRun
            ? html`${badge(j.lastRun.outcome)} ${time(j.lastRun.scheduledFor)}${j.lastRun.cause ? html`<span class="muted small block">${j.lastRun.cause}${j.lastRun.requestedBy ? ` by ${j.lastRun.requestedBy}` : ''} · ${j.lastRun.runner ?? ''}</span>` : ''}${j.lastRun.error || j.lastRun.reason ? html`<span class="${j.lastRun.error ? 'error-text' : 'muted'} small block">${j.lastRun.error ?? j.lastRun.reason}</span>` : ''}`
            : html`<span class="muted">never</span>`,
      },
      { header: 'Next run', cell: (j) => time(j.nextRunAt) },
      { header: '', cell: (j) => action(ctx, { label: 'Run now', method: 'POST', path: `/schedule/${encodeURIComponent(j.name)}/run`, body: { by: 'console' }, confirm: `Run ${j.name} now? It is recorded like a tick.`, tone: 'primary' }) },
    ], 'No scheduled jobs (schedule.yaml is empty or the scheduler is off).')}`,
  );
  // While a run is under way, look again every few seconds to show how it ended.
  const busy = schedule.ok && schedule.data.jobs.some((j) => j.running || j.lastRun?.outcome === 'running');
  return layout(ctx, { title: 'Schedule', active: '/console/schedule', body: card('Jobs', html`${list}<span hidden data-refresh="${busy ? 2 : 30}"></span>`, { id: 'jobs', wide: true }) });
}

export async function alertsPage({ api, ctx }: PageRequest): Promise<SafeHtml> {
  const alerts = await api.get<{ items: Alert[] }>('/alerts?limit=100');
  const list = orNote(alerts, 'Alerts', ({ items }) =>
    table(items, [
      { header: 'Alert', cell: (a) => html`<strong>${a.kind}</strong><br>${a.message}`, kind: 'wide' },
      { header: 'Delivery', cell: (a) => html`${badge(a.deliveryStatus)}${a.lastError ? html`<br><span class="error-text small">${a.lastError}</span>` : ''}` },
      { header: 'Raised', cell: (a) => time(a.createdAt) },
    ], 'No alerts. The heartbeat raises one when failure rates or a missing heartbeat cross their thresholds.'),
  );
  return layout(ctx, { title: 'Alerts', active: '/console/alerts', body: html`<div data-stream="alert:*">${card('Alerts, newest first', list, { id: 'alerts', wide: true })}</div>` });
}

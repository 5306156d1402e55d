import { html, badge, duration, table, time, type SafeHtml } from '../html.ts';
import { action, card, layout, type PageContext } from '../layout.ts';
import type { PageRequest } from '../router.ts';
import { orNote } from './common.ts';
import type { Alert, Page, PolicyItem, Proposal } from './types.ts';
import { proposalActions } from './proposals.ts';

interface WorkersStatus {
  last24h: Record<string, number>;
  queueDepthByKind: Record<string, number>;
  queueByKind?: { kind: string; depth: number; oldestQueuedAgeSeconds: number }[];
  oldestQueuedAgeSeconds: number | null;
  activeLeases: { workerId: string; leases: number; earliestExpiry: string }[];
}
interface Heartbeat {
  id: number;
  status: string;
  triggeredBy: string;
  finishedAt: string | null;
  results: { name: string; ok: boolean; durationMs: number; error?: string }[];
}

export const isToggle = (v: unknown): v is { enabled: boolean } =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { enabled?: unknown }).enabled === 'boolean' && Object.keys(v).length === 1;

export function toggleButton(ctx: PageContext, key: string, value: Record<string, unknown>, enabled: boolean, what: string): SafeHtml {
  return action(ctx, {
    label: enabled ? 'Turn off' : 'Turn on',
    method: 'PUT',
    path: `/policy/${key}`,
    body: { value: { ...value, enabled: !enabled }, changedBy: 'console' },
    confirm: `${enabled ? 'Turn off' : 'Turn on'} ${what}?`,
    tone: enabled ? 'danger' : 'primary',
    name: `${enabled ? 'Turn off' : 'Turn on'} ${key}`,
  });
}

export async function overviewPage({ api, ctx }: PageRequest): Promise<SafeHtml> {
  const [policy, workers, heartbeat, summary, pending, alerts, backups] = await Promise.all([
    api.get<{ items: PolicyItem[] }>('/policy'),
    api.get<WorkersStatus>('/workers/status'),
    api.get<{ heartbeat: Heartbeat | null }>('/heartbeat/last'),
    api.get<Record<string, unknown>>('/summary/daily'),
    api.get<Page<Proposal>>('/proposals?status=pending&limit=5'),
    api.get<{ items: Alert[] }>('/alerts?limit=5'),
    api.get<{ lastSuccessful: { name: string; finishedAt: string; sizeBytes: number; location: string | null } | null }>('/backups'),
  ]);

  const controls = orNote(policy, 'Policy', ({ items }) => {
    const kill = items.find((i) => i.key === 'system_enabled');
    const on = isToggle(kill?.value) ? kill.value.enabled : false;
    const skills = items.filter((i) => i.key !== 'system_enabled' && isToggle(i.value));
    return html`<div class="kill ${on ? 'on' : 'off'}">
  <div><strong>System</strong> ${badge(on ? 'on' : 'off')}<p class="muted">${on ? 'Proposals are approved and steps are claimed.' : 'Kill switch is off: nothing is approved or claimed; proposals wait as pending.'}</p></div>
  ${toggleButton(ctx, 'system_enabled', (kill?.value as Record<string, unknown>) ?? {}, on, 'the whole system (kill switch)')}
</div>
${table(skills, [
  { header: 'Skill', cell: (s) => html`<code>${s.key}</code>`, kind: 'nowrap' },
  { header: 'State', cell: (s) => badge((s.value as { enabled: boolean }).enabled ? 'on' : 'off') },
  { header: 'About', cell: (s) => s.description ?? '', kind: 'wide' },
  { header: '', cell: (s) => toggleButton(ctx, s.key, s.value as Record<string, unknown>, (s.value as { enabled: boolean }).enabled, `skill ${s.key}`) },
], 'No skill toggles in policy.', { id: 'skills' })}`;
  });

  const queue = orNote(workers, 'Worker status', (w) => {
    const rows = w.queueByKind ?? Object.entries(w.queueDepthByKind).map(([kind, depth]) => ({ kind, depth, oldestQueuedAgeSeconds: null as number | null }));
    return html`${table(rows, [
      { header: 'Kind', cell: (r) => html`<code>${r.kind}</code>`, kind: 'wide' },
      { header: 'Queued', cell: (r) => r.depth, kind: 'num' },
      { header: 'Oldest waiting', cell: (r) => (r.oldestQueuedAgeSeconds === null ? '—' : duration(r.oldestQueuedAgeSeconds * 1000)), kind: 'num' },
    ], 'Queue empty: no step is waiting for a worker.')}
<h3>Active leases</h3>
${table(w.activeLeases, [
  { header: 'Worker', cell: (l) => html`<code>${l.workerId}</code>`, kind: 'wide' },
  { header: 'Leases', cell: (l) => l.leases, kind: 'num' },
  { header: 'Earliest expiry', cell: (l) => time(l.earliestExpiry) },
], 'No step is running.')}`;
  });

  const beat = orNote(heartbeat, 'Heartbeat', ({ heartbeat: h }) =>
    h
      ? html`<p>${badge(h.status)} finished ${time(h.finishedAt)} <span class="muted">by ${h.triggeredBy}</span></p>
${table(Array.isArray(h.results) ? h.results : [], [
  { header: 'Phase', cell: (p) => p.name, kind: 'wide' },
  { header: 'Result', cell: (p) => badge(p.ok ? 'ok' : 'failed') },
  { header: 'Time', cell: (p) => duration(p.durationMs), kind: 'num' },
  { header: 'Error', cell: (p) => p.error ?? '' },
], 'No phases recorded.')}`
      : html`<div class="empty">No heartbeat has completed yet. The scheduler runs one every 5 minutes, or POST /api/ops/heartbeat.</div>`,
  );

  const today = orNote(summary, "Today's summary", (s) => {
    const sum = (v: unknown) => (typeof v === 'object' && v ? Object.values(v as Record<string, number>).reduce((a, b) => a + b, 0) : 0);
    const by = (v: unknown, k: string) => (typeof v === 'object' && v ? ((v as Record<string, number>)[k] ?? 0) : 0);
    const rate = typeof s.missionSuccessRate === 'number' ? `${(s.missionSuccessRate * 100).toFixed(1)} %` : '—';
    const stats: [string, string | number, string?][] = [
      ['Proposals', sum(s.proposals), `${by(s.proposals, 'pending')} pending · ${by(s.proposals, 'rejected')} rejected`],
      ['Missions', sum(s.missions), `${by(s.missions, 'succeeded')} succeeded · ${by(s.missions, 'failed')} failed`],
      ['Success rate', rate],
      ['Steps', sum(s.steps)],
      ['Events', Number(s.events ?? 0)],
      ['Alerts', Number(s.alertsRaised ?? 0)],
    ];
    return html`<p class="muted">${String(s.date)} (${String(s.timeZone)})</p><div class="stats">${stats.map(([label, value, note]) => html`<div class="stat"><span class="value">${value}</span><span class="label">${label}</span>${note ? html`<span class="note">${note}</span>` : ''}</div>`)}</div>`;
  });

  const waiting = orNote(pending, 'Pending proposals', (p) =>
    table(p.items, [
      { header: 'Proposal', cell: (r) => html`<a href="/console/proposals#p-${r.id}">${r.title}</a>`, kind: 'wide' },
      { header: 'Kinds', cell: (r) => r.steps.map((s) => s.kind).join(', ') },
      { header: 'Waiting since', cell: (r) => time(r.createdAt) },
      { header: '', cell: (r) => proposalActions(ctx, r) },
    ], 'Nothing waits for a person.'),
  );

  const openAlerts = orNote(alerts, 'Alerts', ({ items }) =>
    table(items, [
      { header: 'Alert', cell: (a) => html`<strong>${a.kind}</strong> ${a.message}`, kind: 'wide' },
      { header: 'Delivery', cell: (a) => badge(a.deliveryStatus) },
      { header: 'Raised', cell: (a) => time(a.createdAt) },
    ], 'No alerts.'),
  );

  // "Last backup: never" must be visible, not discovered weeks later.
  const lastBackup =
    !backups.ok && backups.status === 404
      ? html`<div class="empty">Backups are not configured in this process.</div>`
      : orNote(backups, 'Backups', ({ lastSuccessful: b }) =>
          b
            ? html`<p>${badge('succeeded')} ${time(b.finishedAt)}</p><p class="muted"><code>${b.name}</code> · ${(b.sizeBytes / 1048576).toFixed(1)} MB · ${b.location ?? ''}</p>`
            : html`<p>${badge('never')} No backup has succeeded yet.</p>`,
        );

  return layout(ctx, {
    title: 'Overview',
    active: '/console',
    body: html`<div class="grid" data-stream="" data-refresh="15">
${card('Kill switch and skills', controls, { id: 'controls', wide: true })}
${card('Waiting for a person', waiting, { id: 'pending', wide: true })}
${card('Queue', queue, { id: 'queue' })}
${card('Last heartbeat', beat, { id: 'heartbeat' })}
${card('Today', today, { id: 'today' })}
${card('Recent alerts', openAlerts, { id: 'alerts' })}
${card('Last backup', lastBackup, { id: 'backup' })}
</div>`,
  });
}

import { html, type SafeHtml } from './html.ts';
import type { ConsoleRole } from './session.ts';

/** A page a workload adds (wt/plugins' ConsolePage): rendered generically from its JSON. */
export interface ConsolePageLink {
  slug: string;
  title: string;
  apiPath: string;
}

export interface PageContext {
  role: ConsoleRole;
  /** Workload pages, listed after the core pages in the navigation. */
  extraPages: readonly ConsolePageLink[];
}

const CORE_NAV: [href: string, label: string][] = [
  ['/console', 'Overview'],
  ['/console/proposals', 'Proposals'],
  ['/console/missions', 'Missions'],
  ['/console/events', 'Events'],
  ['/console/policy', 'Policy'],
  ['/console/triggers', 'Triggers'],
  ['/console/reactions', 'Reactions'],
  ['/console/schedule', 'Schedule'],
  ['/console/alerts', 'Alerts'],
];

export function layout(ctx: PageContext, page: { title: string; active: string; body: SafeHtml; actions?: SafeHtml }): SafeHtml {
  const nav = [...CORE_NAV, ...ctx.extraPages.map((p): [string, string] => [`/console/w/${encodeURIComponent(p.slug)}`, p.title])];
  return html`<!doctype html>
<html lang="en" data-role="${ctx.role}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · opsloop</title>
<link rel="stylesheet" href="/console/assets/console.css">
<link rel="icon" href="/console/assets/favicon.svg" type="image/svg+xml">
<script type="module" src="/console/assets/console.js"></script>
</head>
<body>
<header class="top">
  <a class="brand" href="/console">opsloop</a>
  <nav aria-label="Console">${nav.map(([href, label]) => html`<a href="${href}"${page.active === href ? html` aria-current="page"` : ''}>${label}</a>`)}</nav>
  <div class="who">
    <span class="badge ${ctx.role === 'viewer' ? 'tone-warn' : 'tone-info'}" title="${ctx.role === 'viewer' ? 'Read-only session: controls are disabled' : 'Operator session'}">${ctx.role === 'viewer' ? 'viewer · read-only' : 'operator'}</span>
    <form method="post" action="/console/logout"><button class="btn link" type="submit">Log out</button></form>
  </div>
</header>
<main>
  <div class="page-head" id="page-head" data-live><h1>${page.title}</h1>${page.actions ?? ''}</div>
  ${page.body}
</main>
<dialog id="confirm" aria-labelledby="confirm-title">
  <form method="dialog">
    <h2 id="confirm-title">Confirm</h2>
    <p id="confirm-text"></p>
    <label id="confirm-reason-wrap" hidden><span id="confirm-reason-label">Reason</span><textarea id="confirm-reason" rows="3" maxlength="1000"></textarea></label>
    <p class="error" id="confirm-error" role="alert"></p>
    <div class="dialog-buttons"><button class="btn" value="cancel" formnovalidate>Cancel</button><button class="btn primary" id="confirm-ok" value="ok">Confirm</button></div>
  </form>
</dialog>
<div id="toast" role="status" aria-live="polite"></div>
</body>
</html>`;
}

export interface ActionSpec {
  label: string;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Below /api/ops, e.g. `/proposals/<id>/approve`. */
  path: string;
  body?: unknown;
  /** The confirmation question; every change is confirmed. */
  confirm: string;
  /** Ask for a reason and send it in this body field. */
  reasonField?: string;
  reasonLabel?: string;
  tone?: 'primary' | 'danger' | 'plain';
  /** What the button is for, for tests and screen readers. */
  name?: string;
}

/**
 * A button that changes something through the JSON API (console.js confirms, sends, then
 * refreshes the page's live regions). A viewer's buttons are disabled; the server refuses
 * them anyway.
 */
export function action(ctx: PageContext, a: ActionSpec): SafeHtml {
  const viewer = ctx.role === 'viewer';
  return html`<button type="button" class="btn ${a.tone ?? 'plain'}" data-action="${a.method} ${a.path}"${a.body === undefined ? '' : html` data-body="${JSON.stringify(a.body)}"`} data-confirm="${a.confirm}"${a.reasonField ? html` data-reason-field="${a.reasonField}" data-reason-label="${a.reasonLabel ?? 'Reason'}"` : ''}${a.name ? html` aria-label="${a.name}"` : ''}${viewer ? html` disabled title="Read-only session"` : ''}>${a.label}</button>`;
}

export function card(title: string, body: SafeHtml, opts: { id?: string; wide?: boolean } = {}): SafeHtml {
  return html`<section class="card${opts.wide ? ' wide' : ''}"${opts.id ? html` id="${opts.id}" data-live` : ''}><h2>${title}</h2>${body}</section>`;
}

/** Shown when an endpoint the page needs is not served by this build (yet). */
export function unavailable(what: string, detail: string): SafeHtml {
  return html`<div class="empty">${what} is not available: ${detail}</div>`;
}

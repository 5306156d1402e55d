// opsloop console: progressive enhancement over server-rendered pages. Every change goes
// through the JSON API at /console/api (the session cookie stands in for the token); every
// view is rendered by the server, and live regions ([data-live][id]) are re-fetched and
// swapped when the event stream says something happened.
import { jsonDiff } from './jsonDiff.js';

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

// ---- times ---------------------------------------------------------------------------
export function relative(deltaMs) {
  const s = Math.round(Math.abs(deltaMs) / 1000);
  const text = s < 45 ? `${s}s` : s < 2700 ? `${Math.round(s / 60)}m` : s < 86400 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86400)}d`;
  return deltaMs <= 1000 ? `${text} ago` : `in ${text}`;
}
function refreshTimes(root = document) {
  for (const t of $$('time[datetime]', root)) {
    const rel = $('.rel', t);
    if (rel) rel.textContent = relative(Date.parse(t.getAttribute('datetime')) - Date.now());
  }
}
function timeElement(iso) {
  const t = document.createElement('time');
  t.setAttribute('datetime', iso);
  const abs = iso.replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
  t.title = abs;
  const rel = document.createElement('span');
  rel.className = 'rel';
  const a = document.createElement('span');
  a.className = 'abs';
  a.textContent = abs;
  t.append(rel, ' ', a);
  refreshTimes(t.parentNode ?? t);
  rel.textContent = relative(Date.parse(iso) - Date.now());
  return t;
}

// ---- toast -----------------------------------------------------------------------------
let toastTimer;
function toast(message, tone = 'ok') {
  const el = $('#toast');
  if (!el) return;
  el.textContent = message;
  el.className = `show tone-${tone}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.className = ''), 4000);
}

// ---- API -------------------------------------------------------------------------------
export async function callApi(method, path, body) {
  const res = await fetch(`/console/api${path}`, {
    method,
    headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const data = await res.json().catch(() => null);
  if (res.status === 401) {
    location.href = `/console/login?expired=1&next=${encodeURIComponent(location.pathname + location.search)}`;
  }
  return { ok: res.ok, status: res.status, data };
}
function errorText(result) {
  const e = result.data?.error;
  if (!e) return `Request failed (HTTP ${result.status})`;
  const issues = (e.issues ?? []).map((i) => `${i.path || 'value'}: ${i.message}`);
  return [e.message, ...issues].join('\n');
}

// ---- live regions ----------------------------------------------------------------------
let refreshing = false;
let again = false;
let refreshTimer;
export async function refreshLive() {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  try {
    const res = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
    if (res.redirected && new URL(res.url).pathname === '/console/login') {
      location.href = res.url;
      return;
    }
    if (!res.ok) return;
    const next = new DOMParser().parseFromString(await res.text(), 'text/html');
    for (const el of $$('[data-live][id]')) {
      const fresh = next.getElementById(el.id);
      if (!fresh) continue;
      // Keep what the person is typing: skip a region whose text field has focus.
      const focused = document.activeElement;
      if (focused && el.contains(focused) && focused.matches('input, textarea, select')) continue;
      const open = new Set($$('details[open]', el).map((d) => d.closest('[data-event-id]')?.dataset.eventId).filter(Boolean));
      el.replaceWith(fresh);
      for (const d of $$('[data-event-id]', fresh)) if (open.has(d.dataset.eventId)) $('details', d)?.setAttribute('open', '');
      refreshTimes(fresh);
    }
    document.dispatchEvent(new CustomEvent('console:refreshed'));
  } catch {
    // The next event or tick tries again.
  } finally {
    refreshing = false;
    if (again) {
      again = false;
      scheduleRefresh(50);
    }
  }
}
// At most one refresh waiting: each event pushing it back would, while events keep coming
// faster than `ms`, never let it happen.
function scheduleRefresh(ms = 250) {
  if (refreshTimer !== undefined) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = undefined;
    void refreshLive();
  }, ms);
}

// ---- event stream ----------------------------------------------------------------------
function streamUrl(kind, trace) {
  const q = new URLSearchParams();
  if (kind && kind !== '*') q.set('kind', kind);
  if (trace) q.set('trace_id', trace);
  const qs = q.toString();
  return `/console/api/events/stream${qs ? `?${qs}` : ''}`;
}
function openStream(kind, trace, onEvent, onState) {
  let es;
  let pollTimer;
  const start = () => {
    es = new EventSource(streamUrl(kind, trace));
    es.onopen = () => onState('live');
    es.onmessage = (m) => {
      try {
        onEvent(JSON.parse(m.data));
      } catch {
        /* a malformed message is skipped */
      }
    };
    es.onerror = () => {
      // EventSource reconnects by itself (with Last-Event-ID); a refused stream is CLOSED:
      // fall back to polling the page.
      if (es.readyState === EventSource.CLOSED) {
        onState('polling');
        clearInterval(pollTimer);
        pollTimer = setInterval(() => onEvent(null), 3000);
      } else onState('reconnecting');
    };
  };
  start();
  return () => {
    es?.close();
    clearInterval(pollTimer);
  };
}

function setupStreams() {
  const root = $('[data-stream]');
  if (root) {
    openStream(root.dataset.stream, root.dataset.trace, () => scheduleRefresh(), () => {});
  }
  // The page says how often to look again (data-refresh, seconds; none: only on events). A
  // refresh may shorten it (2 s while a scheduled run is under way): the wait then starts over
  // at once, or the run's end would show only when the old, longer wait ran out.
  const interval = () => {
    const raw = $('[data-refresh]')?.dataset.refresh;
    return raw ? Math.max(2, Number(raw) || 0) * 1000 : 0;
  };
  let timer;
  let due = Infinity;
  const arm = () => {
    clearTimeout(timer);
    const ms = interval();
    due = ms ? Date.now() + ms : Infinity;
    if (!ms) return;
    timer = setTimeout(async () => {
      due = Infinity;
      if (document.visibilityState === 'visible') await refreshLive();
      arm();
    }, ms);
  };
  document.addEventListener('console:refreshed', () => {
    const ms = interval();
    if (ms && Date.now() + ms < due) arm();
  });
  arm();
}

// ---- events tail -----------------------------------------------------------------------
function setupTail() {
  const table = $('#tail');
  if (!table) return;
  const body = $('tbody', table);
  const status = $('#tail-status');
  const pause = $('#tail-pause');
  let paused = false;
  let buffered = [];
  let lastId = Number(table.dataset.lastId) || 0;
  const MAX_ROWS = 500;
  const row = (e) => {
    const tr = document.createElement('tr');
    tr.dataset.eventId = String(e.id);
    tr.className = 'fresh';
    const td = (label, cls) => {
      const c = document.createElement('td');
      c.dataset.label = label;
      if (cls) c.className = cls;
      tr.append(c);
      return c;
    };
    td('Id', 'num').textContent = String(e.id);
    const kind = document.createElement('code');
    kind.textContent = e.kind;
    td('Kind').append(kind);
    td('At').append(timeElement(new Date(e.createdAt).toISOString()));
    const trace = td('Trace');
    if (e.traceId) {
      const a = document.createElement('a');
      a.href = `/console/events?trace_id=${encodeURIComponent(e.traceId)}`;
      a.textContent = e.traceId.slice(0, 8);
      trace.append(a);
    } else trace.textContent = '—';
    const payload = document.createElement('code');
    payload.className = 'inline';
    const text = JSON.stringify(e.payload ?? {});
    payload.textContent = text.length > 120 ? `${text.slice(0, 119)}…` : text;
    payload.title = text.length > 120 ? text.slice(0, 2000) : '';
    td('Payload', 'wide').append(payload);
    return tr;
  };
  const show = (events) => {
    for (const e of events) {
      if (e.id <= lastId) continue;
      lastId = e.id;
      body.prepend(row(e));
    }
    while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
    $('#tail-empty')?.remove();
  };
  const label = (state) => {
    if (!status) return;
    status.textContent = paused ? `paused · ${buffered.length} new` : state === 'live' ? 'live' : state;
  };
  let state = 'connecting…';
  openStream(
    table.dataset.kind,
    table.dataset.trace,
    (e) => {
      if (!e) return;
      if (paused) buffered.push(e);
      else show([e]);
      label(state);
    },
    (s) => label((state = s)),
  );
  pause?.addEventListener('click', () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    pause.textContent = paused ? 'Resume' : 'Pause';
    if (!paused) {
      show(buffered);
      buffered = [];
    }
    label(state);
  });
}

// ---- confirm dialog and action buttons ---------------------------------------------------
function setupActions() {
  const dialog = $('#confirm');
  if (!dialog) return;
  let pending = null;
  document.addEventListener('click', (ev) => {
    const button = ev.target.closest?.('button[data-action]');
    if (!button || button.disabled) return;
    ev.preventDefault();
    const [method, path] = button.dataset.action.split(' ');
    pending = { method, path, body: button.dataset.body ? JSON.parse(button.dataset.body) : undefined, reasonField: button.dataset.reasonField };
    $('#confirm-title').textContent = button.textContent.trim();
    $('#confirm-text').textContent = button.dataset.confirm ?? 'Are you sure?';
    $('#confirm-error').textContent = '';
    const wrap = $('#confirm-reason-wrap');
    wrap.hidden = !pending.reasonField;
    $('#confirm-reason-label').textContent = button.dataset.reasonLabel ?? 'Reason';
    $('#confirm-reason').value = '';
    $('#confirm-ok').textContent = button.textContent.trim();
    $('#confirm-ok').className = `btn ${button.classList.contains('danger') ? 'danger' : 'primary'}`;
    dialog.showModal();
    (pending.reasonField ? $('#confirm-reason') : $('#confirm-ok')).focus();
  });
  $('#confirm-ok').addEventListener('click', async (ev) => {
    ev.preventDefault();
    if (!pending) return;
    const body = { ...(pending.body ?? {}) };
    if (pending.reasonField) {
      const reason = $('#confirm-reason').value.trim();
      if (reason) body[pending.reasonField] = reason;
    }
    const ok = $('#confirm-ok');
    ok.disabled = true;
    try {
      const result = await callApi(pending.method, pending.path, pending.method === 'DELETE' && !Object.keys(body).length ? undefined : body);
      if (!result.ok) {
        $('#confirm-error').textContent = errorText(result);
        return;
      }
      dialog.close('done');
      toast(`${$('#confirm-title').textContent}: done`);
      pending = null;
      await refreshLive();
    } finally {
      ok.disabled = false;
    }
  });
  dialog.addEventListener('close', () => (pending = null));
}

// ---- policy editor and JSON forms ------------------------------------------------------
function renderDiff(target, changes) {
  target.replaceChildren();
  target.hidden = false;
  if (!changes.length) {
    target.textContent = 'No change.';
    return;
  }
  const list = document.createElement('ul');
  for (const c of changes) {
    const li = document.createElement('li');
    li.className = `diff-${c.kind}`;
    const path = c.path || '(value)';
    li.textContent =
      c.kind === 'added' ? `+ ${path}: ${JSON.stringify(c.after)}` : c.kind === 'removed' ? `− ${path}: ${JSON.stringify(c.before)}` : `~ ${path}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`;
    list.append(li);
  }
  target.append(list);
}
function showErrors(form, lines) {
  const list = $('.field-errors', form);
  list.replaceChildren(...lines.map((l) => Object.assign(document.createElement('li'), { textContent: l })));
  $('textarea', form).setAttribute('aria-invalid', lines.length ? 'true' : 'false');
}
function parseField(form) {
  try {
    return { ok: true, value: JSON.parse($('textarea', form).value) };
  } catch (e) {
    return { ok: false, error: `Not valid JSON: ${e.message}` };
  }
}
const operator = () => document.documentElement.dataset.role === 'operator';

function setupPolicy() {
  for (const form of $$('form.policy-form')) {
    const key = form.dataset.key;
    let seq = 0;
    // Local JSON check and diff at once; then the server checks the key's schema (nothing
    // saved) and answers the diff against the stored value. Viewers get the local part.
    const preview = async () => {
      const parsed = parseField(form);
      if (!parsed.ok) {
        showErrors(form, [parsed.error]);
        $('.diff', form).hidden = true;
        return undefined;
      }
      showErrors(form, []);
      renderDiff($('.diff', form), jsonDiff(JSON.parse(form.dataset.current), parsed.value));
      if (!operator()) return parsed.value;
      const mine = ++seq;
      const result = await callApi('POST', `/policy/${encodeURIComponent(key)}/check`, { value: parsed.value });
      if (mine !== seq) return undefined;
      if (!result.ok) {
        const e = result.data?.error;
        showErrors(form, e?.issues?.length ? e.issues.map((i) => `${i.path}: ${i.message}`) : [errorText(result)]);
        return undefined;
      }
      renderDiff($('.diff', form), result.data.changes);
      return parsed.value;
    };
    $('[data-policy=preview]', form).addEventListener('click', preview);
    let t;
    $('textarea', form).addEventListener('input', () => {
      clearTimeout(t);
      t = setTimeout(preview, 400);
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearTimeout(t);
      const parsed = parseField(form);
      if (!parsed.ok) return showErrors(form, [parsed.error]);
      // The server validates again on save: the check above is advice, this is the gate.
      const result = await callApi('PUT', `/policy/${encodeURIComponent(key)}`, { value: parsed.value, changedBy: 'console' });
      if (!result.ok) {
        const e = result.data?.error;
        showErrors(form, e?.issues?.length ? e.issues.map((i) => `${i.path}: ${i.message}`) : [errorText(result)]);
        return;
      }
      seq++;
      form.dataset.current = JSON.stringify(result.data.policy.value);
      showErrors(form, []);
      renderDiff($('.diff', form), []);
      toast(`${key} saved`);
      await refreshLive();
    });
  }
  for (const form of $$('form.json-form')) {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const parsed = parseField(form);
      if (!parsed.ok) return showErrors(form, [parsed.error]);
      const result = await callApi(form.dataset.method, form.dataset.path, parsed.value);
      if (!result.ok) {
        const e = result.data?.error;
        return showErrors(form, e?.issues?.length ? e.issues.map((i) => `${i.path}: ${i.message}`) : [errorText(result)]);
      }
      showErrors(form, []);
      toast('Saved');
      await refreshLive();
    });
  }
}

refreshTimes();
setInterval(() => refreshTimes(), 15000);
setupActions();
setupPolicy();
setupTail();
setupStreams();
document.documentElement.classList.add('js');

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { API_TOKEN, startTestApp, VIEWER_TOKEN, type TestApp } from '../../../test/app.ts';
import { sessionSigner, SESSION_TTL_MS } from '../src/console/session.ts';

let db: TestDatabase;
let app: TestApp;
let now = Date.now();
beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db, { consoleNow: () => now });
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

async function login(token: string, headers: Record<string, string> = { origin: '' }) {
  const res = await fetch(`${app.url}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers, ...(headers.origin === '' ? { origin: app.url } : {}) },
    body: new URLSearchParams({ token, next: '/console/policy' }),
  });
  return { res, cookie: res.headers.get('set-cookie')?.split(';')[0] };
}

describe('console sessions and security', () => {
  it('every console response carries the strict headers; pages reference no inline script or style', async () => {
    for (const path of ['/console/login', '/console/assets/console.js']) {
      const res = await fetch(`${app.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
      );
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
    const { cookie } = await login(API_TOKEN);
    const page = await (await fetch(`${app.url}/console`, { headers: { cookie: cookie! } })).text();
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page).not.toMatch(/\sstyle=|\son[a-z]+=/);
    expect(page).not.toMatch(/https?:\/\//);
  });

  it('login sets an HttpOnly SameSite=Strict cookie (Secure behind HTTPS) and goes where it was asked, only within /console', async () => {
    const { res } = await login(API_TOKEN);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/policy');
    const set = res.headers.get('set-cookie')!;
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).toMatch(/Path=\/console/);
    expect(set).not.toMatch(/Secure/);
    // Behind a trusted TLS-terminating proxy (TRUST_PROXY), the cookie is Secure.
    const proxied = await startTestApp(db, { trustProxy: true });
    try {
      const https = await fetch(`${proxied.url}/console/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https', origin: proxied.url.replace('http:', 'https:') },
        body: new URLSearchParams({ token: API_TOKEN }),
      });
      expect(https.status).toBe(303);
      expect(https.headers.get('set-cookie')).toMatch(/Secure/);
    } finally {
      await proxied.close();
    }

    const open = await fetch(`${app.url}/console/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: app.url },
      body: new URLSearchParams({ token: API_TOKEN, next: 'https://evil.example/' }),
    });
    expect(open.headers.get('location')).toBe('/console');
  });

  it('a wrong token is refused without a cookie; a cross-origin login is refused', async () => {
    const wrong = await login('not-the-token');
    expect(wrong.res.status).toBe(401);
    expect(wrong.cookie).toBeUndefined();
    const foreign = await login(API_TOKEN, { origin: 'https://evil.example' });
    expect(foreign.res.status).toBe(403);
    const noOrigin = await fetch(`${app.url}/console/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: API_TOKEN }) });
    expect(noOrigin.status).toBe(403);
    // Under no-referrer a browser form POST says Origin: null; Sec-Fetch-Site vouches for it.
    const nullOrigin = await login(API_TOKEN, { origin: 'null', 'sec-fetch-site': 'same-origin' });
    expect(nullOrigin.res.status).toBe(303);
    expect((await login(API_TOKEN, { origin: 'null', 'sec-fetch-site': 'cross-site' })).res.status).toBe(403);
  });

  it('the gateway: no session 401, viewer reads but 403 on changes, operator changes only from our origin', async () => {
    const noSession = await fetch(`${app.url}/console/api/policy`);
    expect(noSession.status).toBe(401);
    expect(((await noSession.json()) as { error: { code: string } }).error.code).toBe('unauthorized');

    const viewer = (await login(VIEWER_TOKEN)).cookie!;
    expect((await fetch(`${app.url}/console/api/policy`, { headers: { cookie: viewer } })).status).toBe(200);
    const put = (cookie: string, origin?: string) =>
      fetch(`${app.url}/console/api/policy/tiktok_autopost`, {
        method: 'PUT',
        headers: { cookie, 'content-type': 'application/json', ...(origin ? { origin } : {}) },
        body: JSON.stringify({ value: { enabled: true } }),
      });
    const refused = await put(viewer, app.url);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/read-only/);

    const operator = (await login(API_TOKEN)).cookie!;
    expect((await put(operator, 'https://evil.example')).status).toBe(403);
    expect((await put(operator)).status).toBe(403);
    const before = (await app.api.get('/api/ops/policy')).body.items.find((p: { key: string }) => p.key === 'tiktok_autopost').value;
    expect(before).toEqual({ enabled: false });
    const ok = await put(operator, app.url);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { policy: { value: unknown } }).policy.value).toEqual({ enabled: true });
    // The API's own validation and error format answer through the gateway.
    const bad = await fetch(`${app.url}/console/api/policy/tiktok_autopost`, { method: 'PUT', headers: { cookie: operator, origin: app.url, 'content-type': 'application/json' }, body: JSON.stringify({ value: { enabled: 'yes' } }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { issues: { path: string }[] } }).error.issues[0]!.path).toBe('value.enabled');
  });

  it('sessions expire; a forged or tampered cookie is no session; logout clears it', async () => {
    const { cookie } = await login(API_TOKEN);
    expect((await fetch(`${app.url}/console/missions`, { headers: { cookie: cookie! }, redirect: 'manual' })).status).toBe(200);
    now += SESSION_TTL_MS + 1000;
    const expired = await fetch(`${app.url}/console/missions`, { headers: { cookie: cookie! }, redirect: 'manual' });
    expect(expired.status).toBe(303);
    expect(expired.headers.get('location')).toBe('/console/login?next=%2Fconsole%2Fmissions&expired=1');
    expect((await fetch(`${app.url}/console/api/missions`, { headers: { cookie: cookie! } })).status).toBe(401);

    const forged = sessionSigner('some-other-token').sign({ role: 'operator', expiresAt: now + 60_000 });
    expect((await fetch(`${app.url}/console/api/missions`, { headers: { cookie: `opsloop_session=${forged}` } })).status).toBe(401);
    const fresh = (await login(API_TOKEN)).cookie!;
    const [payload, mac] = fresh.split('=')[1]!.split('.');
    const elevated = Buffer.from(JSON.stringify({ r: 'operator', e: now + 10 * SESSION_TTL_MS })).toString('base64url');
    expect(payload).not.toBe(elevated);
    expect((await fetch(`${app.url}/console/api/missions`, { headers: { cookie: `opsloop_session=${elevated}.${mac}` } })).status).toBe(401);

    const out = await fetch(`${app.url}/console/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: fresh, origin: app.url } });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/opsloop_session=;.*Expires=Thu, 01 Jan 1970/);
  });

  it('failed logins count with failed API authentications: past the limit, 429', async () => {
    const small = await startTestApp(db, { authFailuresPerMinute: 3 });
    try {
      const attempt = () =>
        fetch(`${small.url}/console/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: small.url }, body: new URLSearchParams({ token: 'guess' }) }).then((r) => r.status);
      expect([await attempt(), await attempt(), await attempt(), await attempt()]).toEqual([401, 401, 401, 429]);
    } finally {
      await small.close();
    }
  });

  it('a workload page is rendered from its JSON; an unknown one is a 404', async () => {
    const cookie = (await login(API_TOKEN)).cookie!;
    const missing = await fetch(`${app.url}/console/w/nope`, { headers: { cookie } });
    expect(missing.status).toBe(404);
  });
});

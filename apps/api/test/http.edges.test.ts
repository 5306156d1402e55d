import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@opsloop/core';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { API_TOKEN, HEARTBEAT_TOKEN, startTestApp, type TestApp } from '../../../test/app.ts';

let db: TestDatabase;
const apps: TestApp[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function start(options: Parameters<typeof startTestApp>[1] = {}) {
  const app = await startTestApp(db, options);
  apps.push(app);
  return app;
}

describe('security headers', () => {
  it('are on every answer: success, 4xx, 404, health; API answers are never cached and allow no content', async () => {
    const app = await start();
    const answers = [
      await app.api.get('/api/ops/proposals'),
      await app.api.get('/api/ops/proposals/not-a-uuid'),
      await app.raw.get('/api/ops/proposals'),
      await app.raw.get('/nope'),
      await app.raw.get('/health'),
      await app.raw.get('/ready'),
    ];
    for (const res of answers) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('leave the CSP and caching of the console pages to the console', async () => {
    const app = await start();
    const res = await app.raw.get('/console/anything');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    // The console's own policy (console/security.ts), not the API's allow-nothing one.
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe('x-request-id', () => {
  it('is kept only when a short safe token; otherwise replaced', async () => {
    const app = await start();
    const id = (await app.raw.get('/health').set('x-request-id', 'gw-1.req_42')).headers['x-request-id'];
    expect(id).toBe('gw-1.req_42');
    for (const bad of ['a'.repeat(65), 'has space', 'semi;colon', '<script>', 'ünïcode']) {
      const res = await app.raw.get('/health').set('x-request-id', bad);
      expect(res.headers['x-request-id']).not.toBe(bad);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('failed authentication throttle', () => {
  it('answers 429 with Retry-After after 20 failures a minute from one address; valid tokens are never throttled', async () => {
    const app = await start();
    for (let i = 0; i < 20; i++) expect((await app.raw.get('/api/ops/proposals').set('Authorization', 'Bearer wrong')).status).toBe(401);
    const throttled = await app.raw.get('/api/ops/proposals').set('Authorization', 'Bearer wrong');
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(throttled.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(throttled.body).toEqual({ error: { code: 'too_many_requests', message: expect.any(String), requestId: expect.any(String) } });
    expect((await app.raw.post('/api/ops/heartbeat')).status).toBe(429);

    // The same address with a valid token: never throttled.
    for (let i = 0; i < 5; i++) expect((await app.api.get('/api/ops/proposals')).status).toBe(200);
    expect((await app.raw.post('/api/ops/heartbeat').set('Authorization', `Bearer ${HEARTBEAT_TOKEN}`)).status).toBe(200);
    expect(app.logs()).not.toContain(API_TOKEN);
  });

  it('keys on the socket address while TRUST_PROXY is off: a forged X-Forwarded-For does not get a fresh budget', async () => {
    const app = await start({ authFailuresPerMinute: 3 });
    const fail = (ip: string) => app.raw.get('/api/ops/policy').set('Authorization', 'Bearer wrong').set('X-Forwarded-For', ip);
    for (let i = 0; i < 3; i++) expect((await fail(`203.0.113.${i}`)).status).toBe(401);
    expect((await fail('203.0.113.99')).status).toBe(429);
  });

  it('keys on the forwarded client address when TRUST_PROXY trusts the proxy', async () => {
    const app = await start({ authFailuresPerMinute: 3, trustProxy: 'loopback' });
    const fail = (ip: string) => app.raw.get('/api/ops/policy').set('Authorization', 'Bearer wrong').set('X-Forwarded-For', ip);
    for (let i = 0; i < 3; i++) expect((await fail('203.0.113.7')).status).toBe(401);
    expect((await fail('203.0.113.7')).status).toBe(429);
    expect((await fail('203.0.113.8')).status).toBe(401);
  });
});

describe('TRUST_PROXY configuration', () => {
  it('defaults to off and accepts true, a hop count or a list of addresses; refuses anything else naming the variable', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8, fd00::1' }).TRUST_PROXY).toBe('loopback, 10.0.0.0/8, fd00::1');
    for (const bad of ['yes please', '10.0.0.0/8/1', 'example.com']) {
      expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(/TRUST_PROXY/);
    }
    expect(loadConfig({}).AUTH_FAILURES_PER_MINUTE).toBe(20);
  });
});

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, FakeClock } from '@opsloop/core';
import { backupStatus, databaseReadiness, localDestination, runBackup } from '@opsloop/backup';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { API_TOKEN, startTestApp, type TestApp } from '../../../test/app.ts';

let db: TestDatabase;
let app: TestApp;
let bare: TestApp;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'opsloop-console-backups-'));
  const clock = new FakeClock(new Date());
  const deps = { pool: db.pool, clock, logger: createLogger({ level: 'silent' }), destination: localDestination(dir), readiness: databaseReadiness(db.pool), keep: 7 };
  app = await startTestApp(db, { clock, backups: { run: (by) => runBackup(deps, { triggeredBy: by, waitMs: 1000, onNotReady: 'throw' }), status: () => backupStatus(db.pool) } });
  bare = await startTestApp(db, { clock });
});
afterAll(async () => {
  await app?.close();
  await bare?.close();
  await db?.drop();
  await fs.rm(dir, { recursive: true, force: true });
});

async function overview(t: TestApp): Promise<string> {
  const login = await fetch(`${t.url}/console/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: t.url },
    body: new URLSearchParams({ token: API_TOKEN }),
    redirect: 'manual',
  });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const page = await fetch(`${t.url}/console`, { headers: { cookie } });
  expect(page.status).toBe(200);
  const html = await page.text();
  return html.slice(html.indexOf('id="backup"'));
}

describe('console overview: last backup', () => {
  it('says "never" before the first backup, then shows the last successful one; says when backups are not configured', async () => {
    expect(await overview(app)).toMatch(/never<\/span> No backup has succeeded yet/);
    const taken = await app.api.post('/api/ops/backups', {});
    expect(taken.status).toBe(201);
    const after = await overview(app);
    expect(after).toContain(taken.body.name);
    expect(after).not.toContain('No backup has succeeded yet');
    expect(await overview(bare)).toContain('Backups are not configured in this process.');
  });
});

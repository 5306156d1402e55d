// Acceptance: the production install (build, then dev dependencies pruned) runs
// railway.json's start command on an external database and serves /ready 200 within 30 s.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { buildOnce, freePort, groupAlive, ROOT, stopLeftovers } from './process/deployedProcess.ts';

let db: TestDatabase;
let base: string | undefined;
beforeAll(async () => {
  db = await createTestDatabase({ template: false }); // empty: the process migrates it
});
afterAll(async () => {
  await stopLeftovers();
  await db?.drop();
  if (base) await fsp.rm(base, { recursive: true, force: true });
});

describe('production install', () => {
  it('after npm prune --omit=dev, railway.json start command with NODE_ENV=production serves /ready 200 within 30 s', async () => {
    buildOnce();
    base = await fsp.mkdtemp(path.join(os.tmpdir(), 'opsloop-prod-'));
    const app = path.join(base, 'app');
    await fsp.mkdir(app);
    // node_modules hard-linked (prune only unlinks); files npm rewrites are real copies.
    const entries = (await fsp.readdir(ROOT)).filter((e) => !['.git', '.data', 'coverage', 'package-lock.json'].includes(e));
    const copy = spawnSync('cp', ['-al', ...entries.map((e) => path.join(ROOT, e)), app], { encoding: 'utf8' });
    expect(copy.status, copy.stderr).toBe(0);
    await fsp.copyFile(path.join(ROOT, 'package-lock.json'), path.join(app, 'package-lock.json'));
    await fsp.rm(path.join(app, 'node_modules', '.package-lock.json'), { force: true });
    const prune = spawnSync('npm', ['prune', '--omit=dev', '--no-audit', '--no-fund', '--offline'], { cwd: app, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(prune.status, prune.stderr).toBe(0);
    expect(fs.existsSync(path.join(app, 'node_modules', 'tsx')), 'tsx still installed').toBe(false);
    expect(fs.existsSync(path.join(app, 'node_modules', 'vitest')), 'vitest still installed').toBe(false);

    const railway = JSON.parse(await fsp.readFile(path.join(app, 'railway.json'), 'utf8'));
    const [command, ...args] = (railway.deploy.startCommand as string).split(' ');
    expect(command).toBe('node');
    const port = await freePort();
    const env: Record<string, string | undefined> = {
      ...process.env,
      NODE_OPTIONS: undefined,
      NODE_ENV: 'production',
      DATABASE_URL: db.url,
      OPS_API_TOKEN: 'production-api-token-0123456789abcdef',
      HEARTBEAT_TOKEN: 'production-heartbeat-token-0123456789',
      PORT: String(port),
      HOST: '127.0.0.1',
    };
    const startedAt = Date.now();
    const child = spawn(process.execPath, args, { cwd: app, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let status = 0;
      while (Date.now() - startedAt < 30_000 && child.exitCode === null) {
        status = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status, () => 0);
        if (status === 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(status, out).toBe(200);
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
    expect(await exited, out).toBe(0);
    expect(groupAlive(child.pid!)).toBe(false);
  }, 120_000);
});

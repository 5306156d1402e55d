// Acceptance: cloned as root into a private directory (mode 700, like /root/opsloop),
// `npm start` on the embedded database works on the first try.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildOnce, freePort, groupAlive, ROOT, startDeployed, stopLeftovers } from './process/deployedProcess.ts';

const isRoot = process.getuid?.() === 0;
let base: string | undefined;

afterAll(async () => {
  await stopLeftovers();
  if (base) await fs.rm(base, { recursive: true, force: true });
});

describe('root in a private checkout', () => {
  it.skipIf(!isRoot)('npm start as root from a mode-700 directory serves /ready 200 on the embedded database', async () => {
    buildOnce();
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'opsloop-root-'));
    await fs.chmod(base, 0o755);
    const home = path.join(base, 'home'); // stands for /root: only root may enter
    const checkout = path.join(home, 'opsloop');
    await fs.mkdir(checkout, { recursive: true });
    await fs.chmod(home, 0o700);
    // A copy of the checkout (node_modules hard-linked: same files, no 500 MB copy).
    const entries = (await fs.readdir(ROOT)).filter((e) => !['.git', '.data', 'coverage'].includes(e));
    const copy = spawnSync('cp', ['-al', ...entries.map((e) => path.join(ROOT, e)), checkout], { encoding: 'utf8' });
    expect(copy.status, copy.stderr).toBe(0);

    const pgRoot = path.join(base, 'var-lib-opsloop'); // EMBEDDED_PG_ROOT_DIR, instead of /var/lib/opsloop
    const proc = await startDeployed({
      how: 'npm start',
      cwd: checkout,
      env: { EMBEDDED_PG_PORT: String(await freePort()), EMBEDDED_PG_ROOT_DIR: pgRoot, SCHEDULER_ENABLED: 'false', SHUTDOWN_GRACE_MS: '2000' },
    });
    try {
      const ready = await fetch(`${proc.url}/ready`);
      expect(ready.status).toBe(200);
      // The binaries and the cluster moved where the postgres user can reach them, and
      // the log says where.
      await expect(fs.stat(path.join(pgRoot, 'data'))).resolves.toBeTruthy();
      expect(proc.output()).toContain(`embedded PostgreSQL data lives in ${pgRoot}/data/`);
      expect(proc.output()).not.toMatch(/EACCES|\n\s+at /);
    } finally {
      process.kill(proc.child.pid!, 'SIGTERM');
      const exit = await proc.exited;
      expect(exit.code, proc.output()).toBe(0);
      expect(groupAlive(proc.pgid)).toBe(false);
    }
  }, 180_000);
});

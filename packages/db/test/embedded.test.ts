import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@opsloop/core';
import { startEmbeddedPostgres } from '@opsloop/db';

const dataDir = path.join(os.tmpdir(), `opsloop-embedded-${process.pid}-${Date.now()}`);
const port = 55_000 + (process.pid % 1000);

afterAll(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

function startChild(): Promise<{ pid: number; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('packages/db/test/fixtures/startEmbedded.ts'), dataDir, String(port)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ready (\S+)/.exec(out);
      if (match) resolve({ pid: child.pid!, url: match[1]! });
    });
    child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
}

describe('embedded PostgreSQL', () => {
  it('starts again after the previous process was SIGKILLed, with the data kept', async () => {
    const first = await startChild();
    const client = new pg.Client({ connectionString: first.url });
    await client.connect();
    await client.query('CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)');
    await client.end();
    process.kill(first.pid, 'SIGKILL'); // postgres is orphaned, postmaster.pid left behind
    await expect.poll(() => fs.stat(path.join(dataDir, 'postmaster.pid')).then(() => true, () => false)).toBe(true);

    const second = await startEmbeddedPostgres({ dataDir, port, logger: silentLogger() });
    try {
      const c = new pg.Client({ connectionString: second.url });
      await c.connect();
      expect((await c.query('SELECT v FROM kept')).rows).toEqual([{ v: 42 }]);
      await c.end();
    } finally {
      await second.stop();
    }
  }, 60_000);
});

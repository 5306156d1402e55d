import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

function harness(mode: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('apps/api/test/fixtures/shutdownHarness.ts'), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const ready = new Promise<void>((resolve) =>
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('ready\n')) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, ready, exited, output: () => out };
}

describe('process shutdown', () => {
  it('SIGTERM runs the orderly stop and exits 0', async () => {
    const h = harness('fast');
    await h.ready;
    h.child.kill('SIGTERM');
    expect(await h.exited).toBe(0);
    expect(h.output()).toContain('stopped');
  });

  it('the same SIGINT twice at once (npm forwarding the Ctrl-C the group got) is one signal', async () => {
    const h = harness('fast');
    await h.ready;
    h.child.kill('SIGINT');
    h.child.kill('SIGINT');
    expect(await h.exited).toBe(0);
    expect(h.output()).toContain('stopped');
  });

  it('a second signal during the drain exits at once', async () => {
    const h = harness('slow');
    await h.ready;
    h.child.kill('SIGTERM');
    await expect.poll(() => h.output()).toContain('stopping');
    await new Promise((r) => setTimeout(r, 400)); // past the duplicate window
    const sentAt = Date.now();
    h.child.kill('SIGTERM');
    expect(await h.exited).toBe(143);
    expect(Date.now() - sentAt).toBeLessThan(2000);
    expect(h.output()).not.toContain('stopped');
  });

  it.each(['throw', 'reject'])('an uncaught error (%s) is logged and runs the same shutdown, exit 1', async (mode) => {
    const h = harness(mode);
    expect(await h.exited).toBe(1);
    expect(h.output()).toContain('stopped');
    expect(h.output()).toMatch(/"level":60.*(uncaught exception|unhandled rejection): shutting down/);
  });
});

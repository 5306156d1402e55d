#!/usr/bin/env node
// The `opsloop` command. Under the "@opsloop/source" condition (the test suite sets it)
// it runs the TypeScript sources through tsx; otherwise the compiled dist/, rebuilt first
// when a source is newer (as `npm start` does; a production install without TypeScript
// skips that and runs what it shipped).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const fromSource = `${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`.includes('@opsloop/source');
let main;
if (fromSource) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/main.ts'));
} else {
  const build = fileURLToPath(new URL('../../../scripts/build.mjs', import.meta.url));
  if (existsSync(build)) execFileSync(process.execPath, [build, '--if-stale'], { stdio: ['ignore', 'ignore', 'inherit'] });
  ({ main } = await import('../dist/main.js'));
}
process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env node
// Runs the Prisma CLI for the commands that work offline (generate, validate, format).
//
// Prisma's CLI resolves its native schema engine on start-up and tries to download it
// when missing, even for commands that never use it. Pointing PRISMA_SCHEMA_ENGINE_BINARY
// at any existing file stops that lookup. `migrate`, `db push` and `db pull` really need
// the engine, so they are refused here: migrations are plain SQL in sql/ (see README).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';

const allowed = new Set(['generate', 'validate', 'format', 'version', '--version', '-v']);
const args = process.argv.slice(2);
if (!allowed.has(args[0] ?? '')) {
  process.stderr.write(`scripts/prisma.mjs: only ${[...allowed].join(', ')} are supported; migrations live in sql/ (npm run db:migrate)\n`);
  process.exit(2);
}
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const cli = path.join(root, 'node_modules', 'prisma', 'build', 'index.js');
// A production install (`npm ci --omit=dev`) has no Prisma CLI; its client is already
// compiled into packages/db/dist, so there is nothing to generate.
if (!fs.existsSync(cli)) {
  if (args[0] === 'generate') {
    process.stderr.write('scripts/prisma.mjs: Prisma CLI not installed (production install); using the client compiled into packages/db/dist\n');
    process.exit(0);
  }
  process.stderr.write('scripts/prisma.mjs: Prisma CLI not installed; run `npm ci` with dev dependencies\n');
  process.exit(2);
}
const result = spawnSync(process.execPath, [cli, ...args], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
});
process.exit(result.status ?? 1);

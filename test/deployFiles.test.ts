// The deploy files say what the build produces and what the shutdown needs.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '@opsloop/core';

const root = path.resolve(import.meta.dirname, '..');
const railway = JSON.parse(fs.readFileSync(path.join(root, 'railway.json'), 'utf8'));
const render = parse(fs.readFileSync(path.join(root, 'render.yaml'), 'utf8'));
const rootPackage = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const defaultGraceSeconds = configSchema.parse({}).SHUTDOWN_GRACE_MS / 1000;
const WATCHDOG_MARGIN_SECONDS = 8; // apps/api/src/shutdown.ts

describe('deploy files', () => {
  it('railway.json builds, prunes dev dependencies and starts plain node on the compiled entry, with its heap ceiling', () => {
    expect(railway.build.buildCommand).toBe('npm ci && npm run build && npm prune --omit=dev');
    // No shell: the same command runs in exec form or in a shell, and SIGTERM reaches node.
    expect(railway.deploy.startCommand).toBe('node --max-old-space-size=384 --expose-gc --enable-source-maps apps/api/dist/main.js');
    expect(rootPackage.scripts.start).toContain(`exec ${railway.deploy.startCommand}`);
    expect(railway.deploy.healthcheckPath).toBe('/ready');
    expect(railway.deploy.drainingSeconds).toBeGreaterThanOrEqual(defaultGraceSeconds + WATCHDOG_MARGIN_SECONDS);
  });

  it('render.yaml runs the same build and entry, with a database and secrets kept out of the file', () => {
    const [web] = render.services;
    expect(web).toMatchObject({ type: 'web', runtime: 'node', healthCheckPath: '/ready' });
    expect(web.buildCommand).toBe(railway.build.buildCommand);
    expect(web.startCommand).toBe(railway.deploy.startCommand);
    expect(web.maxShutdownDelaySeconds).toBeGreaterThanOrEqual(defaultGraceSeconds + WATCHDOG_MARGIN_SECONDS);
    const vars = new Map<string, Record<string, unknown>>(web.envVars.map((v: { key: string }) => [v.key, v]));
    for (const secret of ['OPS_API_TOKEN', 'HEARTBEAT_TOKEN', 'MOLTBOOK_API_KEY', 'SLACK_WEBHOOK_URL', 'OPENAI_API_KEY']) {
      expect(vars.get(secret), secret).toEqual({ key: secret, sync: false });
    }
    expect(vars.get('NODE_ENV')?.value).toBe('production');
    expect(vars.get('DATABASE_URL')?.fromDatabase).toEqual({ name: render.databases[0].name, property: 'connectionString' });
    for (const key of vars.keys()) if (key !== 'NODE_VERSION') expect(Object.keys(configSchema.shape), key).toContain(key);
  });
});

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, silentLogger } from '@opsloop/core';
import { startService, type RunningService } from '@opsloop/api';
import { MIGRATIONS_DIR } from '@opsloop/db';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { API_TOKEN, HEARTBEAT_TOKEN } from '../../../test/app.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ template: false }); // empty: nothing migrated yet
});
afterAll(async () => {
  await db?.drop();
});

const config = () =>
  loadConfig({
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    OPS_API_TOKEN: API_TOKEN,
    HEARTBEAT_TOKEN,
    WORKER_CONCURRENCY: '2',
    SCHEDULER_ENABLED: 'false',
    LOG_LEVEL: 'silent',
  });

describe('service start-up', () => {
  it('two instances starting at once against one empty database migrate it once, without error, and both serve', async () => {
    const services: RunningService[] = await Promise.all([startService(config(), silentLogger()), startService(config(), silentLogger())]);
    try {
      for (const s of services) {
        const ready = await fetch(`${s.url}/ready`);
        expect(ready.status).toBe(200);
      }
      const versions = await db.pool.query<{ version: number }>('SELECT version::int AS version FROM schemaversion WHERE version::int > 0 ORDER BY 1');
      // Each migration applied exactly once (not one per instance), and all of them.
      const files = (await fs.readdir(MIGRATIONS_DIR)).filter((f) => f.includes('.do.')).map((f) => Number(f.slice(0, 3)));
      expect(versions.rows.map((r) => r.version)).toEqual(files.sort((a, b) => a - b));
      // Seeds ran twice but inserted each policy row once.
      const dupes = await db.pool.query('SELECT key FROM ops_policy GROUP BY key HAVING count(*) > 1');
      expect(dupes.rows).toEqual([]);

      // The in-process worker runs built-in steps end to end.
      const res = await fetch(`${services[0]!.url}/api/ops/proposal`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
        body: JSON.stringify({ title: 'noop', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }] }),
      });
      const { missionId } = (await res.json()) as { missionId: string };
      await expect.poll(async () => (await db.prisma.opsMission.findUnique({ where: { id: missionId } }))?.status, { timeout: 5000 }).toBe('succeeded');
    } finally {
      await Promise.all(services.map((s) => s.stop()));
    }
    expect(services[0]!.server.listening).toBe(false);
  });

  it('a broken schedule.yaml fails start-up with the offending line in the message', async () => {
    const file = path.join(os.tmpdir(), `broken-schedule-${process.pid}.yaml`);
    await fs.writeFile(file, ['jobs:', '  - name: heartbeat', '    cron: "*/5 * * * *"', '    run: { internal: heartbeat }', '  - name: typo', '    cron: "61 * * * *"', '    run: { internal: heartbeat }', ''].join('\n'));
    try {
      await expect(startService({ ...config(), SCHEDULER_ENABLED: true, SCHEDULE_FILE: file }, silentLogger())).rejects.toThrow(
        /broken-schedule-\d+\.yaml:6: job "typo": invalid cron "61 \* \* \* \*"/,
      );
    } finally {
      await fs.rm(file, { force: true });
    }
  });

  it('refuses to start in production without tokens, naming the variable and not echoing values', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', OPS_API_TOKEN: 'short' })).toThrow(/OPS_API_TOKEN must be at least 24 characters[\s\S]*HEARTBEAT_TOKEN is required/);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/^invalid configuration: PORT/);
    try {
      loadConfig({ DATABASE_URL: 'mysql://secret-password@host/db' });
    } catch (error) {
      expect(String(error)).toContain('DATABASE_URL');
      expect(String(error)).not.toContain('secret-password');
    }
  });
});

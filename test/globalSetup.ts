// Starts (or connects to) the PostgreSQL the suite runs on and prepares one migrated,
// seeded template database that every test file clones (test/db.ts).
//   TEST_DATABASE_URL set -> that server (e.g. postgresql://postgres@127.0.0.1:5432/postgres)
//   unset                 -> an embedded cluster in a temporary directory, removed after
import type { TestProject } from 'vitest/node';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { silentLogger } from '@opsloop/core';
import { migrate, seed, startEmbeddedPostgres, type EmbeddedPostgres } from '@opsloop/db';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  let embedded: EmbeddedPostgres | undefined;
  let dataDir: string | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    // A cluster per run (initdb takes a couple of seconds): parallel runs in one checkout
    // never share, or stop, each other's server.
    dataDir = path.join(os.tmpdir(), `opsloop-test-pg-${process.pid}-${Date.now()}`);
    embedded = await startEmbeddedPostgres({
      dataDir,
      port: process.env.TEST_PG_PORT ? Number(process.env.TEST_PG_PORT) : await freePort(),
      logger: silentLogger(),
    });
    adminUrl = embedded.adminUrl;
  }
  const template = `opsloop_tpl_${process.pid}_${Date.now()}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${template}`);
  const templateUrl = withDatabase(adminUrl, template);
  await migrate(templateUrl);
  await seed(templateUrl);

  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplate', template);

  return async () => {
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    await embedded?.stop();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  };
}

/** A port nothing listens on now, so parallel checkouts never collide. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

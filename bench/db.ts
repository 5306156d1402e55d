// Shared by the benchmarks: a throwaway database on BENCH_DATABASE_URL's server, or on
// an embedded cluster under .data/bench-postgres.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { silentLogger } from '@opsloop/core';
import { createDatabase, migrate, seed, startEmbeddedPostgres, type Database } from '@opsloop/db';

export async function benchDatabase(poolSize = 20): Promise<{ db: Database; url: string; close(): Promise<void> }> {
  const embedded = process.env.BENCH_DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({ dataDir: '.data/bench-postgres', port: Number(process.env.BENCH_PG_PORT ?? 54349), logger: silentLogger() });
  const adminUrl = process.env.BENCH_DATABASE_URL ?? embedded!.adminUrl;
  const name = `opsloop_bench_${randomUUID().slice(0, 8)}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  await migrate(u.toString());
  await seed(u.toString());
  const db = createDatabase({ url: u.toString(), poolSize });
  return {
    db,
    url: u.toString(),
    async close() {
      await db.close();
      await admin(`DROP DATABASE ${name} WITH (FORCE)`);
      await embedded?.stop();
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

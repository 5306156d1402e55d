import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '@opsloop/core';
import { SEEDS_DIR } from './migrations.ts';

/**
 * Applies sql/seeds/*.sql in name order. Seed files only insert what is missing
 * (ON CONFLICT DO NOTHING), so re-running them never duplicates rows or overwrites an
 * operator's later changes.
 */
export async function seed(url: string, logger?: Logger): Promise<string[]> {
  const files = (await fs.readdir(SEEDS_DIR)).filter((f) => f.endsWith('.sql')).sort();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const file of files) {
      await client.query(await fs.readFile(path.join(SEEDS_DIR, file), 'utf8'));
      logger?.debug({ file }, 'seed applied');
    }
  } finally {
    await client.end();
  }
  return files;
}

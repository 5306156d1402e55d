import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { createDatabase, type Database } from '@opsloop/db';
import { adminQuery, withDatabase } from './globalSetup.ts';

export interface TestDatabase extends Database {
  name: string;
  drop(): Promise<void>;
}

/**
 * A fresh database cloned from the migrated, seeded template: a few milliseconds, and
 * nothing shared with any other test file.
 */
export async function createTestDatabase(options: { template?: boolean; poolSize?: number } = {}): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const name = `opsloop_t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const template = options.template === false ? 'template0' : inject('pgTemplate');
  await adminQuery(adminUrl, `CREATE DATABASE ${name} TEMPLATE ${template}`);
  const db = createDatabase({ url: withDatabase(adminUrl, name), poolSize: options.poolSize ?? 20 });
  return {
    ...db,
    name,
    async drop() {
      await db.close();
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

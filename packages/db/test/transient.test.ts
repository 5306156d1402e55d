import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgErrorCode } from '@opsloop/db';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';

describe('pgErrorCode', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it("finds the SQLSTATE in a Prisma raw-query error, not Prisma's own P2010", async () => {
    const error = await db.prisma.$queryRaw`SELECT 1 / 0`.catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('P2010');
    expect(pgErrorCode(error)).toBe('22012');
  });

  it('reads a pg error directly', async () => {
    const error = await db.pool.query('SELECT 1 / 0').catch((e: unknown) => e);
    expect(pgErrorCode(error)).toBe('22012');
  });
});

import { inTransaction, type Prisma } from '@opsloop/db';
import type { TestDatabase } from '../../../test/db.ts';

export * from '@opsloop/ops';

export function inTransactionForTests<T>(db: TestDatabase, fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  return inTransaction(db.prisma, fn);
}

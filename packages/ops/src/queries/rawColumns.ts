import { Prisma } from '@opsloop/db';

/**
 * The columns of a Prisma `select` for raw SQL, each aliased to its field name
 * (`s.run_after AS "runAfter"`), so a raw read returns what the same `select` would.
 */
export function rawColumns(select: Record<string, true>, alias: string): Prisma.Sql {
  const column = (field: string) => field.replaceAll(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return Prisma.raw(Object.keys(select).map((f) => `${alias}.${column(f)} AS "${f}"`).join(', '));
}

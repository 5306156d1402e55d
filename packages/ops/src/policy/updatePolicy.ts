import { ValidationError } from '@opsloop/core';
import { inTransaction, type PrismaClient } from '@opsloop/db';
import type { Clock } from '@opsloop/core';
import { writeEvents } from '../events.ts';
import { isPolicyKey, POLICY_SCHEMAS } from './schemas.ts';

/** Validates `value` against the key's schema, stores it and writes `policy:changed`. */
export async function updatePolicy(
  deps: { prisma: PrismaClient; clock: Clock },
  key: string,
  value: unknown,
  changedBy?: string,
): Promise<{ key: string; value: unknown; updatedAt: Date }> {
  if (!isPolicyKey(key)) {
    throw new ValidationError('Unknown policy key', [{ path: 'params.key', message: `unknown policy key "${key}"; known: ${Object.keys(POLICY_SCHEMAS).join(', ')}` }]);
  }
  const parsed = POLICY_SCHEMAS[key].safeParse(value);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, ['value'], `Invalid value for policy ${key}`);
  const now = deps.clock.now();
  return inTransaction(deps.prisma, async (tx) => {
    const old = await tx.opsPolicy.findUnique({ where: { key }, select: { value: true } });
    const row = await tx.opsPolicy.upsert({
      where: { key },
      create: { key, value: parsed.data as object, updatedAt: now, lastValidValue: parsed.data as object, lastValidAt: now },
      update: { value: parsed.data as object, updatedAt: now, lastValidValue: parsed.data as object, lastValidAt: now },
    });
    await writeEvents(tx, [
      { kind: 'policy:changed', source: 'policy', payload: { key, old: old?.value ?? null, new: parsed.data, changedBy: changedBy ?? null }, createdAt: now },
    ]);
    return { key: row.key, value: row.value, updatedAt: row.updatedAt };
  });
}

export async function listPolicy(prisma: PrismaClient) {
  const rows = await prisma.opsPolicy.findMany({ orderBy: { key: 'asc' }, select: { key: true, value: true, description: true, updatedAt: true, lastValidValue: true } });
  return rows.map(({ lastValidValue, ...r }) => {
    const valid = isPolicyKey(r.key) ? POLICY_SCHEMAS[r.key].safeParse(r.value).success : false;
    // For an invalid value, the last valid one stored: what the reader falls back to.
    return { ...r, valid, ...(valid ? {} : { lastValidValue: lastValidValue ?? null }) };
  });
}

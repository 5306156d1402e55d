import { z } from 'zod';
import { ValidationError } from '@opsloop/core';
import { inTransaction, type PrismaClient } from '@opsloop/db';
import type { Clock } from '@opsloop/core';
import type { StepCatalog } from '../catalog.ts';
import { writeEvents } from '../events.ts';
import type { PolicyReader } from './readPolicy.ts';
import type { PolicyKeyDefinition } from './registry.ts';

const jsonSchemas = new WeakMap<PolicyKeyDefinition, unknown>();
function jsonSchemaOf(d: PolicyKeyDefinition): unknown {
  if (!jsonSchemas.has(d)) jsonSchemas.set(d, z.toJSONSchema(d.schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }));
  return jsonSchemas.get(d);
}

type PolicyDeps = { prisma: PrismaClient; clock: Clock; policy: PolicyReader; catalog: StepCatalog };

/** A registered key, or the toggle of a skill some step kind belongs to; else undefined. */
async function writableDefinition(deps: PolicyDeps, key: string): Promise<PolicyKeyDefinition | undefined> {
  const registered = deps.policy.registry.get(key);
  if (registered) return registered;
  const lookup = await deps.catalog.resolve({ skills: [key] });
  return lookup.hasSkill(key) ? deps.policy.registry.definitionOf(key) : undefined;
}

/**
 * The value `updatePolicy` would store for `key` (parsed by the key's schema, defaults
 * applied), or a ValidationError naming each wrong field. Changes nothing: the console's
 * editor checks with it before saving.
 */
export async function checkPolicyValue(deps: PolicyDeps, key: string, value: unknown): Promise<{ definition: PolicyKeyDefinition; value: unknown }> {
  const definition = await writableDefinition(deps, key);
  if (!definition) {
    throw new ValidationError('Unknown policy key', [
      { path: 'params.key', message: `unknown policy key "${key}": neither a registered key (${deps.policy.registry.keys().map((d) => d.key).join(', ')}) nor a skill` },
    ]);
  }
  const parsed = definition.schema.safeParse(value);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, ['value'], `Invalid value for policy ${key}`);
  return { definition, value: parsed.data };
}

/** Validates `value` against the key's schema, stores it and writes `policy:changed`. */
export async function updatePolicy(deps: PolicyDeps, key: string, value: unknown, changedBy?: string): Promise<{ key: string; value: unknown; updatedAt: Date }> {
  const { definition, value: checked } = await checkPolicyValue(deps, key, value);
  const now = deps.clock.now();
  return inTransaction(deps.prisma, async (tx) => {
    const old = await tx.opsPolicy.findUnique({ where: { key }, select: { value: true } });
    const row = await tx.opsPolicy.upsert({
      where: { key },
      create: { key, value: checked as object, description: definition.description, updatedAt: now, lastValidValue: checked as object, lastValidAt: now },
      update: { value: checked as object, updatedAt: now, lastValidValue: checked as object, lastValidAt: now },
    });
    await writeEvents(tx, [
      { kind: 'policy:changed', source: 'policy', payload: { key, old: old?.value ?? null, new: checked, changedBy: changedBy ?? null }, createdAt: now },
    ]);
    return { key: row.key, value: row.value, updatedAt: row.updatedAt };
  });
}

/**
 * Every stored row, each checked against its key's schema (`valid`), plus the registered
 * keys that have no row yet, showing the default in force (`stored: false`). `schema` is
 * the key's value shape as JSON Schema, for editors that validate before saving. An
 * invalid row also shows the stored `lastValidValue` in force.
 */
export async function listPolicy(deps: Pick<PolicyDeps, 'prisma' | 'policy'>) {
  const rows = await deps.prisma.opsPolicy.findMany({ orderBy: { key: 'asc' } });
  const stored = rows.map(({ lastValidValue, lastValidAt: _at, ...r }) => {
    const definition = deps.policy.registry.definitionOf(r.key);
    const valid = definition.schema.safeParse(r.value).success;
    // For an invalid value, the last valid one stored: what the reader falls back to.
    return {
      ...r,
      description: r.description ?? definition.description,
      valid,
      stored: true,
      schema: jsonSchemaOf(definition),
      ...(valid ? {} : { lastValidValue: lastValidValue ?? null }),
    };
  });
  const missing = deps.policy.registry
    .keys()
    .filter((d) => !rows.some((r) => r.key === d.key))
    .map((d) => ({ key: d.key, value: d.default, description: d.description, updatedAt: null, valid: true, stored: false, schema: jsonSchemaOf(d) }));
  return [...stored, ...missing].sort((a, b) => a.key.localeCompare(b.key));
}

import { z } from 'zod';
import { ConflictError, NotFoundError, storedJsonObject, storedString, ValidationError, type FieldIssue } from '@opsloop/core';
import { inTransaction, pgErrorCode, Prisma, type DbClient } from '@opsloop/db';
import { writeEvents } from '../events.ts';
import { triggerConditionSchema } from '../heartbeat/evaluateTriggers.ts';
import type { ProposalDeps } from '../proposals/createProposal.ts';
import { namesInProposal, validateProposal } from '../proposals/validateProposal.ts';

/**
 * A trigger rule as an operator writes it. `condition` is parsed with the evaluator's
 * own `triggerConditionSchema`; `proposal_template` is checked by `validateProposal`
 * exactly as the evaluator's firing will build it (source `trigger`, its dedupe key and
 * metadata added), so a rule that saves is a rule that can fire.
 */
const ruleFields = {
  name: z.string().trim().regex(/^[a-z0-9][a-z0-9_.:-]{0,99}$/, 'lower-case letters, digits and _ . : - (at most 100)'),
  description: storedString().trim().max(1000).nullable().optional(),
  event_kind: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^(\*|[A-Za-z0-9_.:-]+\*?)$/, 'an event kind, a prefix pattern like "mission:*", or "*"'),
  condition: triggerConditionSchema,
  cooldown_minutes: z.number().int().min(0).max(525_600),
  proposal_template: storedJsonObject({ maxBytes: 32 * 1024 }),
  enabled: z.boolean(),
};

export const triggerRuleInputSchema = z
  .object({
    ...ruleFields,
    condition: ruleFields.condition.default({ count_at_least: 1, window_minutes: 60, where: [] }),
    cooldown_minutes: ruleFields.cooldown_minutes.default(60),
    enabled: ruleFields.enabled.default(true),
  })
  .strict();
export type TriggerRuleInput = z.input<typeof triggerRuleInputSchema>;

/** Every field optional, no defaults: what is given replaces the stored value, then the whole rule is validated. */
export const triggerRulePatchSchema = z.object(ruleFields).partial().strict();

export interface TriggerRuleView {
  id: string;
  name: string;
  description: string | null;
  event_kind: string;
  condition: unknown;
  cooldown_minutes: number;
  proposal_template: unknown;
  enabled: boolean;
  fire_count: number;
  last_fired_at: Date | null;
  /** When the cooldown after the last firing ends (null: never fired). */
  cooldown_until: Date | null;
  created_at: Date;
  updated_at: Date;
}

type Deps = Pick<ProposalDeps, 'prisma' | 'clock' | 'catalog'>;

async function checkTemplate(deps: Deps, name: string, template: Record<string, unknown>): Promise<void> {
  const issues: FieldIssue[] = [];
  for (const reserved of ['source', 'proposedBy', 'dedupeKey', 'metadata']) {
    if (reserved in template) issues.push({ path: `proposal_template.${reserved}`, message: 'set by the trigger when it fires' });
  }
  if (issues.length) throw new ValidationError('Invalid trigger rule', issues);
  const proposal = { ...template, source: 'trigger', proposedBy: `trigger:${name}`, dedupeKey: `trigger:${name}:bucket`, metadata: {} };
  try {
    validateProposal(await deps.catalog.resolve(namesInProposal(proposal)), proposal, ['proposal_template']);
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError('Invalid trigger rule', error.issues);
    throw error;
  }
}

const SELECT = (db: DbClient, where: Prisma.Sql) => db.$queryRaw<TriggerRuleView[]>`
  SELECT id, name, description, event_kind, condition, cooldown_minutes, proposal_template, enabled, fire_count, last_fired_at,
         last_fired_at + make_interval(mins => cooldown_minutes) AS cooldown_until, created_at, updated_at
  FROM ops_trigger_rules WHERE ${where} ORDER BY name`;

export async function listTriggerRules(db: DbClient): Promise<TriggerRuleView[]> {
  return SELECT(db, Prisma.sql`true`);
}

export async function getTriggerRule(db: DbClient, id: string): Promise<TriggerRuleView> {
  const [rule] = await SELECT(db, Prisma.sql`id = ${id}::uuid`);
  if (!rule) throw new NotFoundError('trigger rule');
  return rule;
}

async function parseRule(deps: Deps, input: unknown): Promise<z.output<typeof triggerRuleInputSchema>> {
  const parsed = triggerRuleInputSchema.safeParse(input);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, [], 'Invalid trigger rule');
  await checkTemplate(deps, parsed.data.name, parsed.data.proposal_template);
  return parsed.data;
}

// A raw query's unique violation arrives as Prisma's P2010 with PostgreSQL's code in the
// driver adapter's cause.
function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; meta?: { driverAdapterError?: { cause?: { originalCode?: string } } } };
  return e?.code === 'P2002' || e?.meta?.driverAdapterError?.cause?.originalCode === '23505' || pgErrorCode(error) === '23505';
}

function nameTaken(error: unknown, name: string): never {
  if (isUniqueViolation(error)) throw new ConflictError(`a trigger rule named ${name} already exists`);
  throw error;
}

/** Validated like the evaluator reads it; 409 when the name is taken. Writes `trigger_rule:created`. */
export async function createTriggerRule(deps: Deps, input: unknown, by: string): Promise<TriggerRuleView> {
  const rule = await parseRule(deps, input);
  const now = deps.clock.now();
  return inTransaction(deps.prisma, async (tx) => {
    const [row] = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO ops_trigger_rules (name, description, event_kind, condition, cooldown_minutes, proposal_template, enabled, created_at, updated_at)
      VALUES (${rule.name}, ${rule.description ?? null}, ${rule.event_kind}, ${JSON.stringify(rule.condition)}::jsonb, ${rule.cooldown_minutes},
              ${JSON.stringify(rule.proposal_template)}::jsonb, ${rule.enabled}, ${now}::timestamptz, ${now}::timestamptz)
      RETURNING id`.catch((error: unknown) => nameTaken(error, rule.name));
    await writeEvents(tx, [{ kind: 'trigger_rule:created', source: 'control', payload: { id: row!.id, name: rule.name, by }, createdAt: now }]);
    return getTriggerRule(tx, row!.id);
  });
}

/**
 * Applies the given fields over the stored rule and validates the result as a whole.
 * Firing history (fire_count, last_fired_at) is kept. Writes `trigger_rule:updated`
 * (or `trigger_rule:enabled` / `:disabled` when only `enabled` changed).
 */
export function updateTriggerRule(deps: Deps, id: string, patch: unknown, by: string): Promise<TriggerRuleView> {
  const fields = triggerRulePatchSchema.safeParse(patch);
  if (!fields.success) throw ValidationError.fromZod(fields.error, [], 'Invalid trigger rule');
  return inTransaction(deps.prisma, async (tx) => {
    const now = deps.clock.now();
    const [current] = await tx.$queryRaw<{ name: string; description: string | null; event_kind: string; condition: unknown; cooldown_minutes: number; proposal_template: unknown; enabled: boolean }[]>`
      SELECT name, description, event_kind, condition, cooldown_minutes, proposal_template, enabled FROM ops_trigger_rules WHERE id = ${id}::uuid FOR UPDATE`;
    if (!current) throw new NotFoundError('trigger rule');
    const rule = await parseRule(deps, { ...current, ...fields.data });
    await tx.$executeRaw`
      UPDATE ops_trigger_rules SET name = ${rule.name}, description = ${rule.description ?? null}, event_kind = ${rule.event_kind},
        condition = ${JSON.stringify(rule.condition)}::jsonb, cooldown_minutes = ${rule.cooldown_minutes},
        proposal_template = ${JSON.stringify(rule.proposal_template)}::jsonb, enabled = ${rule.enabled}, updated_at = ${now}::timestamptz
      WHERE id = ${id}::uuid`.catch((error: unknown) => nameTaken(error, rule.name));
    const onlyEnabled = Object.keys(fields.data).every((k) => k === 'enabled');
    const kind = onlyEnabled ? (current.enabled === rule.enabled ? undefined : rule.enabled ? 'trigger_rule:enabled' : 'trigger_rule:disabled') : 'trigger_rule:updated';
    if (kind) await writeEvents(tx, [{ kind, source: 'control', payload: { id, name: rule.name, by, changed: Object.keys(fields.data) }, createdAt: now }]);
    return getTriggerRule(tx, id);
  });
}

export function setTriggerRuleEnabled(deps: Deps, id: string, enabled: boolean, by: string): Promise<TriggerRuleView> {
  return updateTriggerRule(deps, id, { enabled }, by);
}

/** Deletes the rule; writes `trigger_rule:deleted` with the rule as it was. */
export function deleteTriggerRule(deps: Deps, id: string, by: string): Promise<{ deleted: true; id: string }> {
  return inTransaction(deps.prisma, async (tx) => {
    const [rule] = await tx.$queryRaw<{ name: string; event_kind: string; fire_count: number }[]>`
      DELETE FROM ops_trigger_rules WHERE id = ${id}::uuid RETURNING name, event_kind, fire_count`;
    if (!rule) throw new NotFoundError('trigger rule');
    await writeEvents(tx, [{ kind: 'trigger_rule:deleted', source: 'control', payload: { id, ...rule, by }, createdAt: deps.clock.now() }]);
    return { deleted: true as const, id };
  });
}

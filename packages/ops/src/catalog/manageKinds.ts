import { z } from 'zod';
import { ConflictError, NotFoundError, storedJsonObject, storedString, ValidationError } from '@opsloop/core';
import { inTransaction, type Prisma } from '@opsloop/db';
import type { StepKindDefinition } from '../catalog.ts';
import { writeEvents } from '../events.ts';
import { skillNameSchema } from '../proposals/validateProposal.ts';
import type { OpsDeps } from '../types.ts';
import { zodParamsToJsonSchema } from './paramsSchema.ts';
import { KIND_NAME, readStoredKinds, type RegisteredKind, type RegisteredKinds } from './registeredKinds.ts';

type CatalogDeps = Pick<OpsDeps, 'prisma' | 'clock' | 'catalog' | 'policy' | 'workloads'>;

const DEFAULT_TIMEOUT_SECONDS = 300;
const MAX_SCHEMA_BYTES = 64 * 1024;

export const kindNameSchema = z.string().max(100).regex(KIND_NAME, 'a step kind name: lower-case segments of letters, digits and _ joined by dots (e.g. "blog.publish")');

/** What an operator sends to register or replace a kind. */
export const stepKindInputSchema = z
  .object({
    skill: skillNameSchema,
    description: storedString().max(1000).default(''),
    /** Reported to external executors with each claimed step. (Default: 300) */
    timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
    /** (Default: step_defaults.max_attempts) */
    maxAttempts: z.number().int().min(1).max(50).optional(),
    /** JSON Schema (draft 2020-12) of the params, `"type": "object"` at the root. */
    // Storable and bounded in depth before the schema compiler (recursive) sees it.
    paramsSchema: storedJsonObject({ maxBytes: MAX_SCHEMA_BYTES }),
  })
  .strict();

export const registerKindInputSchema = stepKindInputSchema.extend({ name: kindNameSchema }).strict();

/** One step kind as the catalogue shows it. */
export interface CatalogEntry {
  kind: string;
  skill: string;
  executor: 'builtin' | 'external';
  /** `core`, a workload's name, or `registered` (operators' kinds in ops_step_kinds). */
  source: string;
  description: string;
  timeoutSeconds: number;
  maxAttempts: number;
  /** JSON Schema (draft 2020-12) of the params. */
  params: unknown;
  usable: boolean;
  problem?: string;
  createdAt?: Date;
  updatedAt?: Date;
}

function registeredKinds(deps: CatalogDeps): RegisteredKinds {
  if (!deps.catalog.registered) throw new Error('this catalogue has no registered kinds');
  return deps.catalog.registered;
}

function codeEntry(d: StepKindDefinition, source: string, maxAttempts: number): CatalogEntry {
  return {
    kind: d.kind,
    skill: d.skill,
    executor: d.executor,
    source,
    description: d.description ?? '',
    timeoutSeconds: d.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    maxAttempts: d.maxAttempts ?? maxAttempts,
    params: zodParamsToJsonSchema(d.params),
    usable: true,
  };
}

function registeredEntry(k: RegisteredKind, maxAttempts: number): CatalogEntry {
  return {
    kind: k.name,
    skill: k.skill,
    executor: 'external',
    source: 'registered',
    description: k.description,
    timeoutSeconds: k.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    maxAttempts: k.maxAttempts ?? maxAttempts,
    params: k.paramsSchema,
    usable: !k.problem,
    ...(k.problem ? { problem: k.problem } : {}),
    createdAt: k.createdAt,
    updatedAt: k.updatedAt,
  };
}

/**
 * Every step kind: code kinds (params as zod's JSON Schema) then registered ones (their
 * stored schema, flagged `usable: false` with the problem when the row is invalid).
 */
export async function listCatalog(deps: CatalogDeps): Promise<CatalogEntry[]> {
  const { step_defaults } = await deps.policy.read(deps.prisma, ['step_defaults']);
  const sourceOf = new Map<string, string>();
  for (const w of deps.workloads ?? []) for (const k of w.stepKinds ?? []) sourceOf.set(k.kind, w.name);
  const code = deps.catalog.code.definitions().map((d) => codeEntry(d, sourceOf.get(d.kind) ?? 'core', step_defaults.max_attempts));
  const registered = deps.catalog.registered ? await deps.catalog.registered.list() : [];
  return [...code, ...registered.filter((k) => !deps.catalog.code.get(k.name)).map((k) => registeredEntry(k, step_defaults.max_attempts))];
}

export async function getCatalogEntry(deps: CatalogDeps, name: string): Promise<CatalogEntry> {
  const entry = (await listCatalog(deps)).find((e) => e.kind === name);
  if (!entry) throw new NotFoundError('step kind');
  return entry;
}

/** The checks shared by register and update; throws 400/409 naming the problem. */
function checkInput(deps: CatalogDeps, name: string, input: z.infer<typeof stepKindInputSchema>): void {
  if (deps.catalog.code.get(name)) throw new ConflictError(`step kind ${name} is defined in code and cannot be registered, changed or removed`);
  const row = registeredKinds(deps).check({ name, ...input, timeoutSeconds: input.timeoutSeconds ?? null, maxAttempts: input.maxAttempts ?? null, createdAt: new Date(0), updatedAt: new Date(0) });
  if (row.problem) throw new ValidationError('Invalid step kind', [{ path: row.problemAt ?? 'paramsSchema', message: row.problem }]);
}

function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, [], 'Invalid step kind');
  return parsed.data;
}

async function readOne(tx: Prisma.TransactionClient, name: string) {
  const [row] = await readStoredKinds(tx, { kinds: [name] });
  return row && row.name === name ? row : undefined;
}

/**
 * Registers an external step kind. Its skill gets a policy toggle row, off, when it has
 * none (the table's trigger does it, for SQL inserts too); `catalog:kind_registered`.
 */
export async function registerStepKind(deps: CatalogDeps, body: unknown): Promise<CatalogEntry> {
  const input = parseInput(registerKindInputSchema, body);
  checkInput(deps, input.name, input);
  const now = deps.clock.now();
  await inTransaction(deps.prisma, async (tx) => {
    const inserted = await tx.$executeRaw`
      INSERT INTO ops_step_kinds (name, skill, description, timeout_seconds, max_attempts, params_schema, created_at, updated_at)
      VALUES (${input.name}, ${input.skill}, ${input.description}, ${input.timeoutSeconds ?? null}::int, ${input.maxAttempts ?? null}::int,
              ${JSON.stringify(input.paramsSchema)}::jsonb, ${now}::timestamptz, ${now}::timestamptz)
      ON CONFLICT (name) DO NOTHING`;
    if (inserted === 0) throw new ConflictError(`step kind ${input.name} is already registered; PUT /api/ops/catalog/kinds/${input.name} replaces it`);
    await writeEvents(tx, [{ kind: 'catalog:kind_registered', source: 'catalog', skill: input.skill, payload: { name: input.name, skill: input.skill }, createdAt: now }]);
  });
  return getCatalogEntry(deps, input.name);
}

/** Replaces a registered kind's definition; `catalog:kind_updated` with what it was. */
export async function updateStepKind(deps: CatalogDeps, name: string, body: unknown): Promise<CatalogEntry> {
  const input = parseInput(stepKindInputSchema, body);
  checkInput(deps, name, input);
  const now = deps.clock.now();
  await inTransaction(deps.prisma, async (tx) => {
    const old = await readOne(tx, name);
    if (!old) throw new NotFoundError('registered step kind');
    await tx.$executeRaw`
      UPDATE ops_step_kinds SET skill = ${input.skill}, description = ${input.description}, timeout_seconds = ${input.timeoutSeconds ?? null}::int,
             max_attempts = ${input.maxAttempts ?? null}::int, params_schema = ${JSON.stringify(input.paramsSchema)}::jsonb, updated_at = ${now}::timestamptz
      WHERE name = ${name}`;
    await writeEvents(tx, [
      { kind: 'catalog:kind_updated', source: 'catalog', skill: input.skill, payload: { name, old: { skill: old.skill, timeoutSeconds: old.timeoutSeconds, maxAttempts: old.maxAttempts, paramsSchema: old.paramsSchema } }, createdAt: now },
    ]);
  });
  return getCatalogEntry(deps, name);
}

/**
 * Removes a registered kind: new proposals naming it are refused. Steps already queued
 * stay claimable by their executors; the skill's toggle row stays (other kinds may share it).
 */
export async function deleteStepKind(deps: CatalogDeps, name: string): Promise<void> {
  if (deps.catalog.code.get(name)) throw new ConflictError(`step kind ${name} is defined in code and cannot be registered, changed or removed`);
  const now = deps.clock.now();
  await inTransaction(deps.prisma, async (tx) => {
    const old = await readOne(tx, name);
    if (!old) throw new NotFoundError('registered step kind');
    await tx.$executeRaw`DELETE FROM ops_step_kinds WHERE name = ${name}`;
    await writeEvents(tx, [{ kind: 'catalog:kind_deleted', source: 'catalog', skill: old.skill, payload: { name, old: { skill: old.skill, paramsSchema: old.paramsSchema } }, createdAt: now }]);
  });
}

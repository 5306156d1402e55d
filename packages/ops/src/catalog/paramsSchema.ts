import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { z } from 'zod';

// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = addFormatsModule.default;

/**
 * One validator for operators' params schemas (JSON Schema draft 2020-12). `strict` makes
 * a typo'd keyword or an unknown format a compile error, so a schema is refused when it
 * is written rather than silently accepting everything; `useDefaults` fills `default`s as
 * the zod schemas of code kinds do.
 */
const ajv = new Ajv2020({ strict: true, allErrors: true, useDefaults: true, coerceTypes: false, validateFormats: true });
addFormats(ajv);

export type CompiledParams = { ok: true; validate: ValidateFunction } | { ok: false; problem: string };

// Compiling is the expensive part; keyed by the schema's text, so an edit by SQL is a new entry.
const compiled = new Map<string, CompiledParams>();
const MAX_COMPILED = 1000;

/** Compiles a params schema, or says what is wrong with it in one line. */
export function compileParamsSchema(schema: unknown): CompiledParams {
  const key = JSON.stringify(schema);
  const hit = compiled.get(key);
  if (hit) return hit;
  const result = compileUncached(schema);
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(key, result);
  return result;
}

function compileUncached(schema: unknown): CompiledParams {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return { ok: false, problem: 'the params schema must be a JSON object' };
  const root = schema as Record<string, unknown>;
  if (root.type !== 'object') return { ok: false, problem: 'the params schema must have "type": "object" (params are an object)' };
  if ('$id' in root || '$async' in root) return { ok: false, problem: 'the params schema must not use $id or $async' };
  try {
    // Without $id, ajv keeps no reference to the schema: compiling the same text twice is fine.
    return { ok: true, validate: ajv.compile(root) };
  } catch (error) {
    return { ok: false, problem: error instanceof Error ? error.message : String(error) };
  }
}

/** `/a/0/b` + ajv's missing or extra property -> `a.0.b.name`. */
function errorPath(e: ErrorObject): (string | number)[] {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'required') path.push(String((e.params as { missingProperty: string }).missingProperty));
  if (e.keyword === 'additionalProperties') path.push(String((e.params as { additionalProperty: string }).additionalProperty));
  return path;
}

function errorMessage(e: ErrorObject): string {
  if (e.keyword === 'required') return 'is required';
  if (e.keyword === 'additionalProperties') return 'is not allowed';
  return e.message ?? 'is invalid';
}

/**
 * A zod schema that validates with the compiled JSON Schema, so registered kinds pass
 * through the same proposal validation as code kinds, and returns a copy with defaults.
 */
export function jsonSchemaParams(validate: ValidateFunction): z.ZodType<Record<string, unknown>> {
  return z.unknown().transform((value, ctx) => {
    const copy = structuredClone(value);
    if (validate(copy)) return copy as Record<string, unknown>;
    for (const e of validate.errors ?? []) ctx.addIssue({ code: 'custom', path: errorPath(e), message: errorMessage(e) });
    return z.NEVER;
  });
}

/** A code kind's params as JSON Schema (what the kind accepts, before defaults). */
export function zodParamsToJsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

import { z } from 'zod';

/**
 * Schemas for input that will be stored in PostgreSQL. Every schema of the API and the
 * domain builds its strings and free-form JSON from these, so a value PostgreSQL cannot
 * hold is a 400 naming the field, never a 500 from the database.
 *
 * - NUL (U+0000): `text` and `jsonb` cannot hold it.
 * - A lone UTF-16 surrogate: not valid Unicode; `jsonb` refuses its `\ud800` escape and
 *   `text` would silently get U+FFFD.
 * - Nesting deeper than MAX_JSON_DEPTH: recursive validation and JSON.stringify would
 *   overflow the stack long before the body limit is reached.
 */

/** NUL, or a surrogate half without its partner (matched on UTF-16 code units). */
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `value` cannot be stored, or undefined when it can. */
export function unstorableReason(value: string): string | undefined {
  const match = UNSTORABLE.exec(value);
  if (!match) return undefined;
  return match[0] === '\u0000' ? 'must not contain a NUL character (U+0000)' : 'must not contain a lone UTF-16 surrogate';
}

/**
 * A string that PostgreSQL can store. Chain length checks and `.trim()` on it as on
 * `z.string()`: `storedString().trim().min(1).max(300)`.
 */
export function storedString() {
  return z.string().superRefine((value, ctx) => {
    const reason = unstorableReason(value);
    if (reason) ctx.addIssue({ code: 'custom', message: reason });
  });
}

/** Deepest nesting accepted in free-form JSON (params, metadata, results, policy values). */
export const MAX_JSON_DEPTH = 32;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

interface JsonOptions {
  /** (Default: MAX_JSON_DEPTH) */
  maxDepth?: number;
  /** Largest size of the value as JSON text, in bytes. (Default: unlimited) */
  maxBytes?: number;
}

/** A node still to visit; its path is rebuilt from the parent chain only when reporting. */
interface Pending {
  value: unknown;
  depth: number;
  parent: Pending | undefined;
  key: string | number | undefined;
}

function pathOf(node: Pending): (string | number)[] {
  const path: (string | number)[] = [];
  for (let n: Pending | undefined = node; n?.parent; n = n.parent) path.unshift(n.key!);
  return path;
}

/**
 * Walks a parsed JSON value without recursion (a hostile value may be thousands of
 * levels deep) and reports the first problem: too deep, a string or key PostgreSQL
 * cannot store, or something that is not JSON at all.
 */
function jsonProblem(root: unknown, maxDepth: number): { path: (string | number)[]; message: string } | undefined {
  const stack: Pending[] = [{ value: root, depth: 0, parent: undefined, key: undefined }];
  while (stack.length) {
    const node = stack.pop()!;
    const { value } = node;
    if (value === null || typeof value === 'boolean') continue;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return { path: pathOf(node), message: 'must be a finite number' };
      continue;
    }
    if (typeof value === 'string') {
      const reason = unstorableReason(value);
      if (reason) return { path: pathOf(node), message: reason };
      continue;
    }
    if (typeof value !== 'object') return { path: pathOf(node), message: 'must be JSON' };
    if (node.depth >= maxDepth) return { path: pathOf(node), message: `must be nested at most ${maxDepth} levels deep` };
    const depth = node.depth + 1;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) stack.push({ value: value[i], depth, parent: node, key: i });
      continue;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return { path: pathOf(node), message: 'must be JSON' };
    for (const key in value) {
      const reason = unstorableReason(key);
      const child: Pending = { value: (value as Record<string, unknown>)[key], depth, parent: node, key };
      if (reason) return { path: pathOf(child), message: `key ${reason}` };
      stack.push(child);
    }
  }
  return undefined;
}

function jsonCheck(o: JsonOptions) {
  const maxDepth = o.maxDepth ?? MAX_JSON_DEPTH;
  return (value: unknown, ctx: z.RefinementCtx) => {
    const problem = jsonProblem(value, maxDepth);
    if (problem) {
      ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
      return;
    }
    if (o.maxBytes !== undefined && Buffer.byteLength(JSON.stringify(value) ?? '') > o.maxBytes) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${o.maxBytes} bytes of JSON` });
    }
  };
}

/** Any JSON value that PostgreSQL can store, bounded in depth (and optionally size). */
export function storedJson(o: JsonOptions = {}): z.ZodType<JsonValue> {
  return z.unknown().superRefine(jsonCheck(o)) as unknown as z.ZodType<JsonValue>;
}

/** A JSON object (params, metadata) that PostgreSQL can store, bounded in depth and size. */
export function storedJsonObject(o: JsonOptions = {}): z.ZodType<Record<string, JsonValue>> {
  return z.record(z.string(), z.unknown()).superRefine(jsonCheck(o)) as unknown as z.ZodType<Record<string, JsonValue>>;
}

/**
 * Earliest and latest instants the API accepts in queries: well inside PostgreSQL's
 * timestamptz range (4713 BC – 294276 AD) and JavaScript's, and after every row opsloop
 * can have written.
 */
export const MIN_QUERY_TIME = new Date('1970-01-01T00:00:00Z');
export const MAX_QUERY_TIME = new Date('9999-12-31T23:59:59.999Z');

export function isQueryableTime(date: Date): boolean {
  const t = date.getTime();
  return !Number.isNaN(t) && t >= MIN_QUERY_TIME.getTime() && t <= MAX_QUERY_TIME.getTime();
}

/** A time in a query string (`since=2026-11-23T00:00:00Z`), within MIN/MAX_QUERY_TIME. */
export function queryTime() {
  return z.coerce.date().refine(isQueryableTime, `must be between ${MIN_QUERY_TIME.toISOString()} and ${MAX_QUERY_TIME.toISOString()}`);
}

/** A calendar day in a query string (`date=2026-11-23`), within MIN/MAX_QUERY_TIME. */
export function queryDate() {
  return z.iso.date().refine((d) => isQueryableTime(new Date(`${d}T00:00:00Z`)), 'must be a day between 1970-01-01 and 9999-12-31');
}

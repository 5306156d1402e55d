import type { z } from 'zod';
import { ValidationError } from '@opsloop/core';

/**
 * Parses one part of a request and throws a ValidationError listing every wrong field.
 * Body fields are named by their path in the body ("steps.0.kind"); query and route
 * parameters are prefixed ("query.limit", "params.id").
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown, part: 'body' | 'query' | 'params'): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw ValidationError.fromZod(result.error, part === 'body' ? [] : [part], `Invalid request ${part}`);
  return result.data;
}

import type { z } from 'zod';

/** One issue of a rejected input: the dotted path of the field and what is wrong with it. */
export interface FieldIssue {
  path: string;
  message: string;
}

/**
 * Base of every error the domain throws on purpose. The HTTP layer maps `status` and
 * `code` to the one JSON error format; anything that is not an AppError is a bug and is
 * answered 500 without detail.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(
    message: string,
    readonly issues: FieldIssue[],
  ) {
    super(400, 'validation_failed', message, { issues });
  }

  static fromZod(error: z.ZodError, prefix: (string | number)[] = [], message = 'Invalid input'): ValidationError {
    return new ValidationError(message, zodIssues(error, prefix));
  }
}

export class UnauthorizedError extends AppError {
  constructor() {
    super(401, 'unauthorized', 'Missing or invalid bearer token');
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    super(404, 'not_found', `${what} not found`);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(409, 'conflict', message, details);
  }
}

export function zodIssues(error: z.ZodError, prefix: (string | number)[] = []): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path].map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

/** One line for a log field or a stored `last_error`: the message, plus field issues. */
export function describeError(error: unknown): string {
  if (error instanceof ValidationError) return `${error.message}: ${error.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`;
  return error instanceof Error ? error.message : String(error);
}

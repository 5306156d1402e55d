import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { UnauthorizedError } from '@opsloop/core';

export interface AuthTokens {
  /** Write and admin routes. */
  apiToken: string;
  /** POST /api/ops/heartbeat only (the API token is accepted there too). */
  heartbeatToken: string;
}

// Hashing first gives equal-length inputs, so timingSafeEqual never throws and the
// comparison time does not depend on where the strings differ.
const digest = (value: string) => createHash('sha256').update(value).digest();

function matches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** Requires one of the named tokens; answers 401 without saying which part was wrong. */
export function requireToken(tokens: AuthTokens, accept: 'api' | 'heartbeat'): RequestHandler {
  return (req, _res, next) => {
    const presented = bearer(req.headers.authorization);
    const ok =
      presented !== undefined &&
      (matches(presented, tokens.apiToken) || (accept === 'heartbeat' && matches(presented, tokens.heartbeatToken)));
    if (!ok) throw new UnauthorizedError();
    next();
  };
}

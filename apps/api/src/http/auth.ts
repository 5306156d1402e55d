import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { UnauthorizedError } from '@opsloop/core';
import { errorBody } from './errors.ts';
import { noteError } from './requestLog.ts';

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

/**
 * Counts failed authentications per client address (req.ip, so TRUST_PROXY decides what
 * that is) in this process's memory, over a fixed one-minute window. Past `perMinute`
 * failures the next failure is answered 429 with Retry-After instead of 401. Requests
 * with a valid token never reach it, so they are never throttled.
 */
export function authFailureThrottle(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // Its check prints to stderr, outside our logs, whenever a client sends
    // X-Forwarded-For while TRUST_PROXY is off; any client can, so it is noise here.
    validate: { xForwardedForHeader: false },
    handler: (req, res) => {
      const message = 'Too many failed authentication attempts; retry later';
      noteError(res, { code: 'too_many_requests', message });
      res.status(429).json(errorBody('too_many_requests', message, req.id));
    },
  });
}

/**
 * Requires one of the named tokens; answers 401 without saying which part was wrong
 * (429 once `throttle` says this address failed too often). `accept` may depend on the
 * request: the heartbeat route also takes the heartbeat token.
 */
export function requireToken(tokens: AuthTokens, accept: 'api' | 'heartbeat' | ((req: Request) => 'api' | 'heartbeat'), throttle?: RequestHandler): RequestHandler {
  return (req, res, next) => {
    const presented = bearer(req.headers.authorization);
    const scope = typeof accept === 'function' ? accept(req) : accept;
    const ok =
      presented !== undefined && (matches(presented, tokens.apiToken) || (scope === 'heartbeat' && matches(presented, tokens.heartbeatToken)));
    if (ok) return next();
    if (!throttle) throw new UnauthorizedError();
    // The throttle counts this failure and either answers 429 itself or lets the 401 through.
    return throttle(req, res, () => next(new UnauthorizedError()));
  };
}

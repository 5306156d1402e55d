import type { Request, RequestHandler } from 'express';

/**
 * Headers on every console response: scripts and styles from opsloop only (no inline
 * script or style), no framing, no sniffing, no referrer.
 */
export const consoleHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  );
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cache-Control', 'no-store');
  next();
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isMutating(req: Request): boolean {
  return !SAFE_METHODS.has(req.method);
}

/**
 * A state-changing console request must come from a console page. SameSite=Strict already
 * keeps the cookie off cross-site requests; this also covers same-site sibling hosts.
 * Browsers send Origin on every POST/PUT/DELETE; it must be ours. Under our own
 * `Referrer-Policy: no-referrer` a form POST (login, logout) carries `Origin: null`, so
 * then the browser's Sec-Fetch-Site (which page scripts cannot set) must say same-origin.
 * Neither header: refused.
 */
export function sameOrigin(req: Request): boolean {
  const origin = req.headers.origin;
  if (origin && origin !== 'null') {
    // req.protocol and req.host follow X-Forwarded-* behind a trusted proxy (trust proxy).
    return origin === `${req.protocol}://${req.host}`;
  }
  return req.headers['sec-fetch-site'] === 'same-origin';
}

import type { RequestHandler } from 'express';
import helmet from 'helmet';

/** Pages for browsers live here and set their own (stricter, page-specific) CSP. */
const BROWSER_PAGES = '/console';

/**
 * The one place response security headers are set, before any route runs. Every answer
 * gets helmet's defaults without a CSP (nosniff, `Referrer-Policy: no-referrer`,
 * frame and cross-origin protections, HSTS). API answers (everything but the console's
 * pages) also get `Cache-Control: no-store` (they carry operations data) and a CSP that
 * allows nothing, which is right for JSON; the console sets the CSP its pages need.
 */
export function securityHeaders(): RequestHandler {
  const common = helmet({ contentSecurityPolicy: false, referrerPolicy: { policy: 'no-referrer' } });
  return (req, res, next) => {
    if (req.path !== BROWSER_PAGES && !req.path.startsWith(`${BROWSER_PAGES}/`)) {
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    }
    common(req, res, next);
  };
}

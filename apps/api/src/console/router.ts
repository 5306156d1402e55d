import path from 'node:path';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { consoleApi, type ConsoleApi } from './apiClient.ts';
import { html, type SafeHtml } from './html.ts';
import type { ConsolePageLink, PageContext } from './layout.ts';
import { consoleHeaders, isMutating, sameOrigin } from './security.ts';
import { readCookie, roleForToken, SESSION_COOKIE, SESSION_TTL_MS, sessionSigner, type Session } from './session.ts';
import { loginPage } from './pages/login.ts';
import { PAGES, workloadPage } from './pages/index.ts';

export interface ConsoleOptions {
  apiToken: string;
  /** OPS_VIEWER_TOKEN: a read-only console login. */
  viewerToken?: string;
  /** Pages workloads add to the navigation. */
  pages?: readonly ConsolePageLink[];
  /** Epoch ms (Default: Date.now); tests expire sessions with it. */
  now?: () => number;
  /** Counts failed logins per address with the API's failed authentications (429 past the limit). */
  loginThrottle?: RequestHandler;
}

export interface PageRequest {
  req: Request;
  api: ConsoleApi;
  ctx: PageContext;
}

/** A console page: its URL below /console and how it renders. */
export interface PageRoute {
  path: string;
  render(p: PageRequest): Promise<SafeHtml>;
}

const STATIC_DIR = path.resolve(import.meta.dirname, '../../static/console');

declare module 'express-serve-static-core' {
  interface Request {
    consoleSession?: Session;
  }
}

/**
 * The operator console at /console: login, pages, static assets. Every route is registered
 * with its full path on a router mounted at the root (the OpenAPI drift test walks them).
 */
export function consoleRoutes(o: ConsoleOptions): Router {
  const router = Router();
  const signer = sessionSigner(o.apiToken);
  const now = o.now ?? Date.now;
  const extraPages = o.pages ?? [];

  router.use('/console', consoleHeaders);
  router.use('/console/assets', express.static(STATIC_DIR, { index: false, fallthrough: false, maxAge: '1h' }));

  router.get('/console/login', (req, res) => {
    if (signer.verify(readCookie(req.headers.cookie, SESSION_COOKIE), now())) return res.redirect(303, '/console');
    res.type('html').send(String(loginPage({ next: safeNext(req.query.next), expired: req.query.expired === '1' })));
  });

  router.post('/console/login', express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
    if (!sameOrigin(req)) return forbidden(res, 'Cross-origin login refused');
    const token = typeof req.body?.token === 'string' ? req.body.token.trim() : '';
    const role = token ? roleForToken(token, o) : undefined;
    const next = safeNext(req.body?.next);
    if (!role) {
      const refuse = () => res.status(401).type('html').send(String(loginPage({ next, error: 'That token is not valid for this opsloop.' })));
      if (o.loginThrottle) return o.loginThrottle(req, res, refuse);
      return refuse();
    }
    const expiresAt = now() + SESSION_TTL_MS;
    res.cookie(SESSION_COOKIE, signer.sign({ role, expiresAt }), {
      httpOnly: true,
      sameSite: 'strict',
      secure: req.secure,
      path: '/console',
      maxAge: SESSION_TTL_MS,
    });
    req.log.info({ role }, 'console login');
    res.redirect(303, next);
  });

  router.post('/console/logout', (req, res) => {
    if (!sameOrigin(req)) return forbidden(res, 'Cross-origin request refused');
    res.clearCookie(SESSION_COOKIE, { path: '/console', httpOnly: true, sameSite: 'strict', secure: req.secure });
    res.redirect(303, '/console/login');
  });

  const requireSession: RequestHandler = (req, res, next) => {
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    const session = signer.verify(cookie, now());
    if (!session) {
      const query = new URLSearchParams({ next: req.originalUrl, ...(cookie ? { expired: '1' } : {}) });
      return res.redirect(303, `/console/login?${query}`);
    }
    req.consoleSession = session;
    next();
  };

  const renderPage = (render: PageRoute['render']) => async (req: Request, res: Response) => {
    const ctx: PageContext = { role: req.consoleSession!.role, extraPages };
    const body = await render({ req, api: consoleApi(req, o.apiToken), ctx });
    res.type('html').send(String(body));
  };

  for (const page of PAGES) router.get(page.path, requireSession, renderPage(page.render));
  router.get('/console/w/:slug', requireSession, (req, res, next) => {
    const page = extraPages.find((p) => p.slug === req.params.slug);
    if (!page) return next();
    return renderPage((p) => workloadPage(p, page))(req, res);
  });
  return router;
}

/**
 * /console/api/* is the console's door to the JSON API: the session cookie stands in for
 * the bearer token, which stays on the server. Viewers may only read; changes need an
 * operator session and a same-origin Origin. The request is rewritten to /api/ops/* and
 * continues through the API's own routes, validation and error format — the console has
 * no second implementation of any operation.
 *
 * Mounted at the root without a path: a mount path would be re-prefixed onto the
 * rewritten URL when the request moves on.
 */
export function consoleGateway(o: ConsoleOptions): RequestHandler {
  const signer = sessionSigner(o.apiToken);
  const now = o.now ?? Date.now;
  return (req, res, next) => {
    if (!req.url.startsWith('/console/api/')) return next();
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const session = signer.verify(readCookie(req.headers.cookie, SESSION_COOKIE), now());
    if (!session) return error(res, 401, 'unauthorized', 'Console session missing or expired: log in again');
    if (isMutating(req)) {
      if (session.role !== 'operator') return error(res, 403, 'forbidden', 'This console session is read-only (viewer token)');
      if (!sameOrigin(req)) return error(res, 403, 'forbidden', 'Cross-origin request refused');
    }
    req.url = `/api/ops/${req.url.slice('/console/api/'.length)}`;
    req.headers.authorization = `Bearer ${o.apiToken}`;
    next();
  };
}

function error(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message, requestId: typeof res.req.id === 'string' ? res.req.id : undefined } });
}

function forbidden(res: Response, message: string): void {
  res.status(403).type('html').send(String(html`<!doctype html><title>Forbidden</title><p>${message}.</p>`));
}

/** Only console paths: never an open redirect. */
function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/console(\/[^\\]*)?$/.test(value) && !value.startsWith('//') ? value : '/console';
}

import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { z } from 'zod';
import { requireToken, type AuthTokens } from './auth.ts';
import { requireJsonBody } from './errors.ts';
import { parse } from './validate.ts';

/**
 * Who may call a route.
 * - `public`: anyone (liveness, readiness, the OpenAPI document).
 * - `read`: the API token; reads of operations data.
 * - `write`: the API token; anything that changes state.
 * - `heartbeat`: the heartbeat token or the API token.
 * - `slack`: no bearer token; the handler verifies Slack's request signature.
 */
export type RouteAuth = 'public' | 'read' | 'write' | 'heartbeat' | 'slack';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteResponse {
  description: string;
  /** The JSON body; omitted for bodies that are not JSON (SSE, HTML) or not described. */
  schema?: z.ZodType;
  /** Defaults to application/json when `schema` is set. */
  contentType?: string;
}

type AnyObject = z.ZodObject<z.ZodRawShape>;

export interface RouteSpec<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  method: HttpMethod;
  /** Express path relative to the registry's prefix, e.g. `/missions/:id`. */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  auth: RouteAuth;
  params?: P;
  query?: Q;
  body?: B;
  /**
   * Validates the body with this instead of `body` when the domain function validates
   * `body` in full itself (the intake); `body` still documents it.
   */
  bodyCheck?: z.ZodType;
  /** Body media type (Default: application/json). Non-JSON bodies are parsed by `bodyParser`. */
  bodyType?: 'application/json' | 'application/x-www-form-urlencoded';
  /**
   * Replaces the JSON body parser (e.g. Slack needs the raw bytes to check the
   * signature). The handler then gets what it produced, unvalidated: `body` only documents it.
   */
  bodyParser?: RequestHandler;
  /** Success and the route's own error statuses; 400/401 are added from the schemas and auth. */
  responses: Record<number, RouteResponse>;
  handler: (input: RouteInput<P, Q, B>, req: Request, res: Response) => unknown;
}

export interface RouteInput<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
}

/** What the OpenAPI generator reads: the spec with its full path. */
export type RegisteredRoute = Omit<RouteSpec<AnyObject, AnyObject, z.ZodType>, 'handler' | 'bodyParser' | 'bodyCheck'> & { fullPath: string };

/**
 * The one way a route is declared: method, path, schemas, responses and auth. `add`
 * registers it on Express (auth first, then the body parser, then validation of params,
 * query and body) and records it for the OpenAPI document, so the two cannot drift.
 *
 * Routes are registered with their full path on routers mounted at the root, so the
 * drift test can read every path from Express's own layers.
 */
export class RouteRegistry {
  readonly routes: RegisteredRoute[] = [];

  constructor(
    private readonly tokens: AuthTokens,
    private readonly bodyLimit: string,
    /** Counts failed authentications (429 past the limit); see authFailureThrottle. */
    private readonly throttle?: RequestHandler,
  ) {}

  /** A router whose routes all live under `prefix` (e.g. `/api/ops`). */
  router(prefix = ''): RouteGroup {
    return new RouteGroup(this, Router(), prefix);
  }

  /** @internal */
  middleware(spec: RouteSpec<AnyObject, AnyObject, z.ZodType>): RequestHandler[] {
    const chain: RequestHandler[] = [];
    if (spec.auth === 'read' || spec.auth === 'write') chain.push(requireToken(this.tokens, 'api', this.throttle));
    if (spec.auth === 'heartbeat') chain.push(requireToken(this.tokens, 'heartbeat', this.throttle));
    // Authenticated before the body is read, so an unauthenticated caller cannot make us
    // read 1 MB of JSON. Every route parses a JSON body if one is sent (GETs too), so a
    // bad one is a 4xx everywhere, never ignored on some.
    if (spec.bodyParser) chain.push(spec.bodyParser);
    else chain.push(requireJsonBody, express.json({ limit: this.bodyLimit, type: 'application/json' }));
    return chain;
  }
}

export class RouteGroup {
  constructor(
    private readonly registry: RouteRegistry,
    readonly express: Router,
    private readonly prefix: string,
  ) {}

  add<P extends AnyObject = AnyObject, Q extends AnyObject = AnyObject, B extends z.ZodType = z.ZodUndefined>(spec: RouteSpec<P, Q, B>): this {
    const fullPath = `${this.prefix}${spec.path}`;
    const { handler, bodyParser: _bodyParser, bodyCheck: _bodyCheck, ...doc } = spec;
    this.registry.routes.push({ ...(doc as unknown as RegisteredRoute), fullPath });
    const run: RequestHandler = async (req, res) => {
      const input = {
        params: spec.params ? parse(spec.params, req.params, 'params') : {},
        query: spec.query ? parse(spec.query, req.query, 'query') : {},
        body: spec.bodyParser ? req.body : spec.body ? parse(spec.bodyCheck ?? spec.body, req.body, 'body') : undefined,
      } as RouteInput<P, Q, B>;
      const result = await handler(input, req, res);
      if (result !== undefined && !res.headersSent) res.json(result);
    };
    this.express[spec.method](fullPath, ...this.registry.middleware(spec as never), run);
    return this;
  }
}

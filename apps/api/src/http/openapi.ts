import { z } from 'zod';
import type { RegisteredRoute, RouteAuth } from './route.ts';

type JsonSchema = Record<string, unknown>;

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/** The error body every 4xx/5xx carries (see errors.ts). */
const errorSchema = z
  .object({
    error: z
      .object({
        code: z.string().meta({ description: 'Stable machine-readable code, e.g. validation_failed, conflict' }),
        message: z.string(),
        issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
        requestId: z.string().optional(),
      })
      .loose(),
  })
  .meta({ description: 'The one error format' });

const SECURITY: Record<RouteAuth, Record<string, string[]>[] | undefined> = {
  public: [],
  read: [{ apiToken: [] }],
  write: [{ apiToken: [] }],
  heartbeat: [{ heartbeatToken: [] }, { apiToken: [] }],
  slack: [{ slackSignature: [] }],
};

/**
 * Builds the OpenAPI 3.1 document from the registered routes' zod schemas (zod's own
 * JSON Schema output, draft 2020-12, which is OpenAPI 3.1's schema dialect). Request
 * schemas are described as the client sends them (`io: "input"`: defaults optional),
 * responses as the server answers them.
 */
export function buildOpenApi(routes: readonly RegisteredRoute[], info: OpenApiInfo): JsonSchema {
  const components = new Components();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.fullPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const operation: Record<string, unknown> = {
      operationId: operationId(route),
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: route.tags,
      security: SECURITY[route.auth],
      parameters: [...parameters(components, route.params, 'path'), ...parameters(components, route.query, 'query')],
    };
    if (route.body) {
      const schema = components.schema(route.body, 'input');
      operation.requestBody = {
        required: !isOptional(route.body),
        content: { [route.bodyType ?? 'application/json']: { schema } },
      };
    }
    operation.responses = responses(components, route);
    (paths[path] ??= {})[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: { Error: components.schema(errorSchema, 'output'), ...components.hoisted },
      securitySchemes: {
        apiToken: { type: 'http', scheme: 'bearer', description: 'OPS_API_TOKEN' },
        heartbeatToken: { type: 'http', scheme: 'bearer', description: 'HEARTBEAT_TOKEN (POST /api/ops/heartbeat only)' },
        slackSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Slack-Signature',
          description: 'v0 HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}` with SLACK_SIGNING_SECRET',
        },
      },
    },
  };
}

function operationId(route: RegisteredRoute): string {
  const words = route.fullPath
    .replace(/^\/api(\/ops)?/, '')
    .split(/[/:._-]+/)
    .filter(Boolean);
  return [route.method, ...words].map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
}

function parameters(components: Components, schema: z.ZodObject | undefined, where: 'path' | 'query'): unknown[] {
  if (!schema) return [];
  const json = components.schema(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

function responses(components: Components, route: RegisteredRoute): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const errorRef = { $ref: '#/components/schemas/Error' };
  const described: Record<number, string> = {};
  if (route.params || route.query || route.body) described[400] = 'validation_failed (or invalid_json): the request names each wrong field';
  if (route.auth === 'read' || route.auth === 'write' || route.auth === 'heartbeat') described[401] = 'unauthorized: missing or invalid bearer token';
  if (route.auth === 'slack') described[401] = 'unauthorized: bad or stale Slack signature, or a replayed request';
  for (const [status, description] of Object.entries(described)) {
    out[status] = { description, content: { 'application/json': { schema: errorRef } } };
  }
  for (const [status, response] of Object.entries(route.responses)) {
    const code = Number(status);
    const schema = response.schema ? components.schema(response.schema, 'output') : code >= 400 ? errorRef : undefined;
    const contentType = response.contentType ?? 'application/json';
    out[status] = { description: response.description, ...(schema ? { content: { [contentType]: { schema } } } : response.contentType ? { content: { [contentType]: {} } } : {}) };
  }
  return out;
}

function isOptional(schema: z.ZodType): boolean {
  return schema.safeParse(undefined).success;
}

/**
 * Collects reusable definitions: zod puts recursive and shared parts under `$defs`,
 * whose `#/$defs/…` references would resolve against the whole document, so they are
 * moved to `components/schemas` under a unique name and the references rewritten.
 */
class Components {
  readonly hoisted: Record<string, JsonSchema> = {};
  private count = 0;

  schema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const json = z.toJSONSchema(schema, {
      io,
      target: 'draft-2020-12',
      unrepresentable: 'any',
      override: (ctx) => {
        // z.coerce.date() in a query string: an ISO 8601 timestamp.
        if (ctx.zodSchema._zod.def.type === 'date') Object.assign(ctx.jsonSchema, { type: 'string', format: 'date-time' });
      },
    }) as JsonSchema;
    delete json.$schema;
    const defs = json.$defs as Record<string, JsonSchema> | undefined;
    if (!defs) return json;
    delete json.$defs;
    const renamed = new Map<string, string>();
    for (const name of Object.keys(defs)) renamed.set(`#/$defs/${name}`, `#/components/schemas/Def${++this.count}`);
    const rewrite = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(rewrite);
      if (value && typeof value === 'object') {
        return Object.fromEntries(
          Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? (renamed.get(v) ?? v) : rewrite(v)]),
        );
      }
      return value;
    };
    for (const [name, def] of Object.entries(defs)) {
      this.hoisted[renamed.get(`#/$defs/${name}`)!.slice('#/components/schemas/'.length)] = rewrite(def) as JsonSchema;
    }
    return rewrite(json) as JsonSchema;
  }
}

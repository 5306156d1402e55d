import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, ValidationError } from '@opsloop/core';
import { isDataExceptionPgError, pgErrorCode } from '@opsloop/db';
import { noteError } from './requestLog.ts';

/**
 * The one JSON error format:
 *   { "error": { "code": "validation_failed", "message": "...", "issues": [{ "path": "steps.0.kind", "message": "..." }], "requestId": "..." } }
 */
export interface ErrorBody {
  error: { code: string; message: string; requestId?: string; [key: string]: unknown };
}

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json(errorBody('not_found', `No route for ${req.method} ${req.path}`, req.id));
};

/** Errors raised by express.json() / raw-body carry a `type` and a status. */
const BODY_ERRORS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'invalid_json', 'Request body is not valid JSON'],
  'entity.too.large': [413, 'payload_too_large', 'Request body is too large'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'Unsupported content encoding'],
  'charset.unsupported': [415, 'unsupported_charset', 'Unsupported charset'],
  'request.aborted': [400, 'request_aborted', 'Request was aborted'],
};

/**
 * The one error middleware. In order: body-parser's errors (by `type`), our named
 * errors, a malformed path or body encoding, any other error that carries a client-error
 * status (http-errors style `status`/`statusCode` 4xx), PostgreSQL data exceptions
 * (class 22) as the last line of defence against input validation missed, then 500.
 */
export const errorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  const bodyError = typeof err === 'object' && err !== null && 'type' in err ? BODY_ERRORS[String(err.type)] : undefined;
  if (bodyError) {
    const [status, code, message] = bodyError;
    noteError(res, { code, message });
    res.status(status).json(errorBody(code, message, req.id));
    return;
  }
  if (err instanceof AppError) {
    const extra = err instanceof ValidationError ? { issues: err.issues } : (err.details ?? {});
    noteError(res, { code: err.code, message: err.message });
    res.status(err.status).json(errorBody(err.code, err.message, req.id, extra));
    return;
  }
  const status = clientErrorStatus(err);
  if (status !== undefined) {
    const [code, message] = describeClientError(err, status);
    noteError(res, { code, message });
    res.status(status).json(errorBody(code, message, req.id));
    return;
  }
  if (isDataExceptionPgError(err)) {
    const message = 'A value in the request cannot be stored or compared by the database';
    // In the log: input validation missed a check, which is worth a schema fix.
    noteError(res, { code: 'invalid_value', message: `${message} (SQLSTATE ${pgErrorCode(err)}: input validation missed it)` });
    res.status(400).json(errorBody('invalid_value', message, req.id));
    return;
  }
  // The request's log line carries the error; its stack goes to debug only.
  noteError(res, { code: 'internal_error', message: err instanceof Error ? err.message : String(err) });
  req.log.debug({ err }, 'unhandled error');
  res.status(500).json(errorBody('internal_error', 'Internal server error', req.id));
};

/** A 4xx `status` or `statusCode` (http-errors, the router, body-parser, zlib wrapped by it). */
function clientErrorStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { status?: unknown; statusCode?: unknown };
  const status = typeof e.status === 'number' ? e.status : e.statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500 ? status : undefined;
}

function describeClientError(err: unknown, status: number): [code: string, message: string] {
  // The router's decodeURIComponent of a path parameter (`/proposals/%zz`).
  if (err instanceof URIError) return ['invalid_path', 'Malformed percent-encoding in the request path'];
  const e = err as { code?: unknown; expose?: unknown; message?: unknown };
  // A zlib error that body-parser passes on with status 400: the body does not decompress.
  if (typeof e.code === 'string' && e.code.startsWith('Z_')) return ['invalid_encoding', 'Request body does not decompress with its Content-Encoding'];
  const text = STATUS_CODES[status] ?? 'Client error';
  const code = text.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
  // `expose` is http-errors' mark for a message written for the client.
  return [code, e.expose === true && typeof e.message === 'string' ? e.message : text];
}

/** The error format, for middleware that answers without throwing (e.g. the auth throttle). */
export function errorBody(code: string, message: string, requestId: unknown, extra: Record<string, unknown> = {}): ErrorBody {
  return { error: { code, message, ...extra, requestId: typeof requestId === 'string' ? requestId : undefined } };
}

/** 415 for a body that is not JSON: the API speaks nothing else. */
export const requireJsonBody: RequestHandler = (req, res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is('application/json')) {
    res.status(415).json(errorBody('unsupported_media_type', 'Content-Type must be application/json', req.id));
    return;
  }
  next();
};

import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, ValidationError } from '@opsloop/core';
import { noteError } from './requestLog.ts';

/**
 * The one JSON error format:
 *   { "error": { "code": "validation_failed", "message": "...", "issues": [{ "path": "steps.0.kind", "message": "..." }], "requestId": "..." } }
 */
export interface ErrorBody {
  error: { code: string; message: string; requestId?: string; [key: string]: unknown };
}

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json(body('not_found', `No route for ${req.method} ${req.path}`, req.id));
};

/** Errors raised by express.json() / raw-body carry a `type` and a status. */
const BODY_ERRORS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'invalid_json', 'Request body is not valid JSON'],
  'entity.too.large': [413, 'payload_too_large', 'Request body is too large'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'Unsupported content encoding'],
  'charset.unsupported': [415, 'unsupported_charset', 'Unsupported charset'],
  'request.aborted': [400, 'request_aborted', 'Request was aborted'],
};

export const errorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  const bodyError = typeof err === 'object' && err !== null && 'type' in err ? BODY_ERRORS[String(err.type)] : undefined;
  if (bodyError) {
    const [status, code, message] = bodyError;
    noteError(res, { code, message });
    res.status(status).json(body(code, message, req.id));
    return;
  }
  if (err instanceof AppError) {
    const extra = err instanceof ValidationError ? { issues: err.issues } : (err.details ?? {});
    noteError(res, { code: err.code, message: err.message });
    res.status(err.status).json(body(err.code, err.message, req.id, extra));
    return;
  }
  // The request's log line carries the error; its stack goes to debug only.
  noteError(res, { code: 'internal_error', message: err instanceof Error ? err.message : String(err) });
  req.log.debug({ err }, 'unhandled error');
  res.status(500).json(body('internal_error', 'Internal server error', req.id));
};

function body(code: string, message: string, requestId: unknown, extra: Record<string, unknown> = {}): ErrorBody {
  return { error: { code, message, ...extra, requestId: typeof requestId === 'string' ? requestId : undefined } };
}

/** 415 for a body that is not JSON: the API speaks nothing else. */
export const requireJsonBody: RequestHandler = (req, res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is('application/json')) {
    res.status(415).json(body('unsupported_media_type', 'Content-Type must be application/json', req.id));
    return;
  }
  next();
};

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler, Response } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '@opsloop/core';

/** A client's x-request-id is kept only when it is a short token safe in logs and headers. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** What a failed request's log line says about the failure (set by the error middleware). */
export interface LoggedError {
  code: string;
  message: string;
}

/** Attaches the error to the request's one log line instead of logging a second line. */
export function noteError(res: Response, error: LoggedError): void {
  res.locals.loggedError = error;
}

/**
 * One line per request, written when the response is finished (or the connection closed):
 * method, path, status, duration and request id; for a failure also its error code and
 * message. No headers at all, and query values redacted: a token sent as `?token=` or in
 * `X-Auth-Token` never reaches the log. `req.log` is a child logger carrying the request id.
 */
export function requestLogger(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    quietReqLogger: true,
    quietResLogger: true,
    customAttributeKeys: { reqId: 'requestId' },
    genReqId: (req, res) => {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    customSuccessMessage: (req, res) => `${req.method} ${redactedPath(req)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${redactedPath(req)} ${res.statusCode}`,
    customSuccessObject: (req, res, value: { responseTime: number }) => line(req, res, value.responseTime),
    customErrorObject: (req, res, error, value: { responseTime: number }) => line(req, res, value.responseTime, error),
    autoLogging: { ignore: (req) => req.url === '/health' },
  }) as unknown as RequestHandler;
}

function line(req: IncomingMessage, res: ServerResponse, responseTime: number, error?: Error) {
  const noted = (res as unknown as Response).locals?.loggedError as LoggedError | undefined;
  return {
    method: req.method,
    path: redactedPath(req),
    status: res.statusCode,
    durationMs: responseTime,
    // finished: false when the client went away (or the drain cut the connection) first.
    ...(res.writableFinished ? {} : { finished: false }),
    ...(noted ? { error: noted } : error && res.statusCode >= 500 ? { error: { message: error.message } } : {}),
  };
}

/** The path with every query value replaced: `/api/ops/events?kind=[redacted]`. */
export function redactedPath(req: IncomingMessage): string {
  const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '';
  const at = url.indexOf('?');
  if (at < 0) return url;
  const keys = url
    .slice(at + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => `${decodeSafely(pair.split('=')[0]!)}=[redacted]`);
  return `${url.slice(0, at)}?${keys.join('&')}`;
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text).replace(/[^\w.\-[\]]/g, '_');
  } catch {
    return '_';
  }
}

import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { parseBearer, type TokenVerifier } from '@mythoughts/runtime/tokens';
import { requireUtf8Query, verifyBodyEncoding } from './encoding.ts';

/**
 * The conventions of the public JSON API (the book's Flask-RESTPlus behaviour): its error
 * shape and messages, where inputs are read from, the 308 for a slashless path and the 405 with
 * `Allow`. Plumbing, not behaviour: the monolith's views and the services' handlers, each
 * written on its own side, use it so that their errors look alike; what they answer is theirs.
 */
export const MESSAGES = {
  unauthorized:
    "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.",
  notFound: 'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.',
  methodNotAllowed: 'The method is not allowed for the requested URL.',
  missingParameter: 'Missing required parameter in the JSON body or the post body or the query string',
  invalidPayload: 'Input payload validation failed',
  tooLarge: 'The data value transmitted exceeds the capacity limit.',
  badRequest: 'The browser (or proxy) sent a request that this server could not understand.',
  internal: 'The server encountered an internal error and was unable to complete your request.',
} as const;

/** An answer other than success, carried to the error handler as a value. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

export function sendJson(res: Response, status: number, body: unknown): void {
  res.status(status).setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(body));
}

export function invalidField(field: string, message: string): ApiError {
  return new ApiError(400, { errors: { [field]: message }, message: MESSAGES.invalidPayload });
}

/** An input field: its name and what it is, the start of its "missing" message. */
export interface Field {
  name: string;
  help: string;
}

/**
 * Reads fields from the JSON body, the form body or the query string, in that order
 * (JSON wins). The first missing required field is a 400 naming it.
 */
export function readFields(req: Request, fields: readonly Field[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const field of fields) {
    const value = readField(req, field.name);
    if (value === undefined) throw invalidField(field.name, `${field.help} ${MESSAGES.missingParameter}`);
    values[field.name] = value;
  }
  return values;
}

export function readField(req: Request, name: string): string | undefined {
  const sources = [req.is('application/json') ? req.body : undefined, req.is('application/x-www-form-urlencoded') ? req.body : undefined, req.query];
  for (const source of sources) {
    if (source === null || typeof source !== 'object' || !(name in source)) continue;
    const value = (source as Record<string, unknown>)[name];
    if (value === null || value === undefined) continue;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw invalidField(name, `${name} must be a string`);
  }
  return undefined;
}

/**
 * The client's address: the socket's, or the X-Forwarded-For entry written by a trusted proxy
 * (the gateway) when the app's `trust proxy` (TRUST_PROXY) says the peer is one.
 */
export function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** The username of the request's valid bearer token; 401 otherwise. */
export function requireUser(req: Request, verifier: TokenVerifier): string {
  const token = parseBearer(req.headers.authorization);
  const username = token ? verifier.verify(token) : null;
  if (!username) throw new ApiError(401, { message: MESSAGES.unauthorized });
  return username;
}

/**
 * A router for API routes. Strict and case-sensitive like Flask's, so that `/api/login`
 * reaches the 308 redirect instead of the `/api/login/` handler.
 */
export function apiRouter(): Router {
  return express.Router({ strict: true, caseSensitive: true });
}

type Method = 'GET' | 'POST' | 'DELETE';
type Handler = (req: Request, res: Response) => Promise<void> | void;

/**
 * Declares an API route the Flask-RESTPlus way: its path ends in `/`, the path without it
 * answers 308 to the slashed URL (query kept), and other methods answer 405 with `Allow`.
 * The router must come from `apiRouter()`.
 */
export function apiRoute(router: Router, path: string, handlers: Partial<Record<Method, Handler>>): void {
  const methods = Object.keys(handlers) as Method[];
  const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].sort().join(', ');
  const route = router.route(path);
  for (const method of methods) {
    const handler = handlers[method]!;
    route[method.toLowerCase() as 'get' | 'post' | 'delete'](async (req, res) => {
      // Recorded now: by the time the response finishes, an error may have unwound baseUrl.
      res.locals.routePattern = `${req.baseUrl}${path}`;
      await handler(req, res);
    });
  }
  route.options((_req, res) => {
    res.setHeader('Allow', allow);
    res.status(200).end();
  });
  route.all((_req, res) => {
    res.setHeader('Allow', allow);
    sendJson(res, 405, { message: MESSAGES.methodNotAllowed });
  });
  router.all(path.replace(/\/$/, ''), (req, res) => {
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    res.redirect(308, `${req.baseUrl}${req.path}/${query}`);
  });
}

/**
 * Body parsers for API routes: JSON and form bodies, 64 KiB at most, valid UTF-8 only (in the
 * body and in the query string's %-escapes, see encoding.ts).
 */
export function apiBodyParsers() {
  return [
    requireUtf8Query,
    express.json({ limit: '64kb', verify: verifyBodyEncoding }),
    express.urlencoded({ extended: false, limit: '64kb', verify: verifyBodyEncoding }),
  ];
}

/** Unknown API paths: the standard 404 message. */
export function apiNotFound(_req: Request, res: Response): void {
  sendJson(res, 404, { message: MESSAGES.notFound });
}

interface HttpishError {
  type?: string;
  charset?: string;
  status?: number;
  message?: string;
  errors?: Array<{ path?: string; message?: string }>;
}

/** Turns every failure into the contract's JSON answer; only unexpected ones are logged as errors. */
export function apiErrorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof ApiError) {
      for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
      return sendJson(res, error.status, error.body);
    }
    const e = error as HttpishError;
    if (e?.type === 'entity.parse.failed') {
      return sendJson(res, 400, { message: `Failed to decode JSON object: ${e.message}` });
    }
    if (e?.type === 'entity.too.large') return sendJson(res, 413, { message: MESSAGES.tooLarge });
    if (e?.type === 'charset.unsupported') {
      return sendJson(res, 415, { message: `Unsupported charset "${e.charset ?? ''}" in Content-Type: send the body as UTF-8 (or leave the charset out)` });
    }
    if (e?.type === 'encoding.unsupported') {
      return sendJson(res, 415, { message: `${e.message ?? 'Unsupported Content-Encoding'}: send the body as identity, gzip, deflate or br` });
    }
    if (e?.type === 'encoding.invalid') return sendJson(res, 400, { message: e.message });
    if (e?.status === 400 && Array.isArray(e.errors)) return sendJson(res, 400, validationBody(e.errors));
    if (e?.status === 404) return sendJson(res, 404, { message: MESSAGES.notFound });
    // e.g. a path with broken percent-encoding, which Express marks as the client's fault.
    if (e?.status === 400) return sendJson(res, 400, { message: MESSAGES.badRequest });
    logger.error({ err: error, reqId: (req as Request & { id?: string }).id }, 'unhandled error');
    return sendJson(res, 500, { message: MESSAGES.internal });
  };
}

/** OpenAPI validation errors in the contract's shape: `{errors: {field: message}, message}`. */
function validationBody(errors: NonNullable<HttpishError['errors']>) {
  const byField: Record<string, string> = {};
  for (const error of errors) {
    const field = (error.path ?? '').split('/').filter(Boolean).pop() ?? 'request';
    byField[field] ??= error.message ?? 'is invalid';
  }
  return { errors: byField, message: MESSAGES.invalidPayload };
}

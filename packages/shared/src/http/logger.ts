import type { IncomingMessage } from 'node:http';
import { pino, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { REDACTED_PATHS, redactParameters, redactQuery } from '@mythoughts/runtime/http/redaction';
import { traceIdsOf } from './tracing.ts';

/** `level` defaults to LOG_LEVEL of the process (a service started in-process passes its own env's). */
export function createLogger(name: string, level: string = process.env.LOG_LEVEL || 'info'): Logger {
  return pino({
    name,
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // Human-readable output only for a person at a terminal; JSON lines everywhere else.
    ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}

interface SerializedRequest {
  url?: string;
  query?: unknown;
  headers?: Record<string, unknown>;
  [key: string]: unknown;
}

interface SerializedResponse {
  headers?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * One log line per request, carrying the request id set by the requestId middleware and,
 * when tracing is on, the `trace_id` and `span_id` of the request's span (see traceRequests).
 * Every place a request's query string shows up in the line (the URL, the parsed query, a
 * Referer, the Location of a 308 that keeps the query) has its secret parameters redacted.
 */
export function requestLogger(logger: Logger, traced = false) {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? '',
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
    serializers: {
      req: (req: SerializedRequest) => ({
        ...req,
        ...(typeof req.url === 'string' ? { url: redactQuery(req.url) } : {}),
        ...(req.query === undefined ? {} : { query: redactParameters(req.query) }),
        ...(req.headers ? { headers: redactUrlHeaders(req.headers, 'referer') } : {}),
      }),
      res: (res: SerializedResponse) => (res.headers ? { ...res, headers: redactUrlHeaders(res.headers, 'location') } : res),
    },
    ...(traced ? { customProps: traceIdsOf } : {}),
  });
}

function redactUrlHeaders(headers: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = headers[name];
  return typeof value === 'string' ? { ...headers, [name]: redactQuery(value) } : headers;
}

import type { IncomingMessage } from 'node:http';
import { pino, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { traceIdsOf } from './tracing.ts';

/** Secrets never reach a log line, whichever service writes it. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  'password',
];

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

/**
 * One log line per request, carrying the request id set by the requestId middleware and,
 * when tracing is on, the `trace_id` and `span_id` of the request's span (see traceRequests).
 */
export function requestLogger(logger: Logger, traced = false) {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? '',
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
    ...(traced ? { customProps: traceIdsOf } : {}),
  });
}

import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Exchange } from '../exchange.ts';
import { statusClass } from './metrics.ts';
import type { RequestCounters } from './requestCounters.ts';

/** One access-log line's fields; the optional ones are added only when they apply. */
interface AccessLine {
  reqId: string;
  method: string;
  path: string;
  route: string;
  backend: string;
  decision: string;
  status: number;
  durationMs: number;
  upstreamMs: number | null;
  attempts: number;
  failure?: string;
  overrideRefused?: string;
  incomplete?: true;
}

/**
 * The end of every exchange: one access-log line and the request metrics, recorded once,
 * when the response is finished or the connection closed. A response cut before its head
 * (the client left) is logged as 499, counted as 4xx. Either part can be switched off
 * (null) to measure what it costs (GATEWAY_ACCESS_LOG=off, GATEWAY_METRICS=off).
 */
export function recordExchange(exchange: Exchange, res: ServerResponse, counters: RequestCounters | null, accessLog: Logger | null): void {
  const durationMs = performance.now() - exchange.startedAt;
  const status = res.headersSent ? res.statusCode : 499;
  const route = exchange.routeName;
  const backend = exchange.backendName;
  counters?.record(route, backend, exchange.decision, statusClass(status), durationMs / 1000);
  if (accessLog === null) return;
  // Built once, in one shape, with the rare fields added after (no object spreads).
  const line: AccessLine = {
    reqId: exchange.requestId,
    method: exchange.method,
    path: exchange.path,
    route,
    backend,
    decision: exchange.decision,
    status,
    durationMs: round(durationMs),
    upstreamMs: exchange.upstreamMs < 0 ? null : round(exchange.upstreamMs),
    attempts: exchange.attempts,
  };
  if (exchange.failure !== null) line.failure = exchange.failure;
  if (exchange.overrideRefused !== null) line.overrideRefused = exchange.overrideRefused;
  if (!res.writableFinished) line.incomplete = true;
  accessLog.info(line, 'request');
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

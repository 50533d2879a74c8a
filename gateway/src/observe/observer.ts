import type { ServerResponse } from 'node:http';
import type { Exchange } from '../exchange.ts';
import type { AccessLog } from './accessLog.ts';
import type { RequestCounters } from './requestCounters.ts';

/**
 * The end of every exchange: one access-log line and the request metrics, recorded once,
 * when the response is finished or the connection closed. A response cut before its head
 * (the client left) is logged as 499, counted as 4xx. Either part can be switched off
 * (null) to measure what it costs (GATEWAY_ACCESS_LOG=off, GATEWAY_METRICS=off).
 */
export function recordExchange(exchange: Exchange, res: ServerResponse, counters: RequestCounters | null, accessLog: AccessLog | null): void {
  recordOutcome(exchange, res.headersSent ? res.statusCode : 499, !res.writableFinished, counters, accessLog);
}

/** The same record for an exchange without a ServerResponse (a WebSocket: 101, logged when it closes). */
export function recordOutcome(exchange: Exchange, status: number, incomplete: boolean, counters: RequestCounters | null, accessLog: AccessLog | null): void {
  const durationMs = performance.now() - exchange.startedAt;
  counters?.record(exchange.routeName, exchange.backendName, exchange.decision, status, durationMs / 1000);
  accessLog?.write(exchange, status, durationMs, incomplete);
}

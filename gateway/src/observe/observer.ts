import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Exchange } from '../exchange.ts';
import { statusClass, type GatewayMetrics } from './metrics.ts';

/**
 * The end of every exchange: one access-log line and the request metrics, recorded once,
 * when the response is finished or the connection closed. A response cut before its head
 * (the client left) is logged as 499, counted as 4xx.
 */
export function recordExchange(exchange: Exchange, res: ServerResponse, metrics: GatewayMetrics, logger: Logger): void {
  const durationMs = performance.now() - exchange.startedAt;
  const status = res.headersSent ? res.statusCode : 499;
  const route = exchange.routeName;
  const backend = exchange.backendName;
  metrics.requests.labels(route, backend, exchange.decision, statusClass(status)).inc();
  metrics.duration.labels(route, backend).observe(durationMs / 1000);
  logger.info(
    {
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
      ...(exchange.failure === null ? {} : { failure: exchange.failure }),
      ...(exchange.overrideRefused === null ? {} : { overrideRefused: exchange.overrideRefused }),
      ...(res.writableFinished ? {} : { incomplete: true }),
    },
    'request',
  );
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

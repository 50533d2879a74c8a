import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { requestIdOf } from '@mythoughts/runtime/http/requestId';
import type { RouteTable } from './config/routeTable.ts';
import type { Decider } from './decide/routingDecision.ts';
import { Exchange } from './exchange.ts';
import { sendSocketError } from './forward/errorResponse.ts';
import type { UpstreamFailure } from './forward/upstream.ts';
import { prepareRequestHeaders } from './forward/headers.ts';
import type { WebSocketForwarder } from './forward/webSockets.ts';
import { resolveRoute } from './resolveRoute.ts';

export interface UpgradeHandlerDeps {
  readonly plan: () => RouteTable;
  readonly decider: Decider;
  readonly webSockets: WebSocketForwarder;
  readonly trustForwarded: boolean;
  readonly draining: () => boolean;
  /** The upgrade's result, for metrics: upgraded, refused (a plain answer) or failed. */
  readonly counted: (exchange: Exchange, result: 'upgraded' | 'refused' | 'failed', failure: UpstreamFailure | null) => void;
  /** Open WebSockets now, by route and backend: +1 on open, -1 on close. */
  readonly opened: (exchange: Exchange, delta: 1 | -1) => void;
  /** Once per upgrade request, when its socket has closed (its access line, its request count). */
  readonly finished: (exchange: Exchange, status: number) => void;
}

/**
 * `Upgrade: websocket` requests: the same normalise → match → deny → decide as any request
 * (routes, cohorts, overrides, denies and ejections apply), then the handshake and the
 * socket to the chosen back end through http-proxy-3 (forward/webSockets.ts). There is no
 * replay: a WebSocket that could not be opened is the client's to retry.
 */
export function createUpgradeHandler(deps: UpgradeHandlerDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return function upgrade(req, socket, head) {
    const table = deps.plan();
    const exchange = new Exchange(performance.now(), requestIdOf(req.headers['x-request-id']), table, req.method ?? 'GET');
    if (deps.draining()) return refuse(exchange, socket, 503, 'Service unavailable: the gateway is shutting down');
    if (String(req.headers.upgrade).toLowerCase() !== 'websocket')
      return refuse(exchange, socket, 400, `Bad request: only WebSocket upgrades are supported (Upgrade: ${String(req.headers.upgrade).slice(0, 40)})`);
    const own = resolveRoute(exchange, req);
    if (own !== null) return refuse(exchange, socket, own.status, own.message);

    const routing = deps.decider.decide(table, exchange.route!, req.headers);
    exchange.routing = routing;
    exchange.decision = routing.decision;
    exchange.backend = routing.backend;
    exchange.attempts = 1;
    prepareRequestHeaders(req, exchange.requestId, deps.trustForwarded);
    // The two hop-by-hop headers a handshake is made of go on, to this one hop.
    req.headers.connection = 'Upgrade';
    req.headers.upgrade = 'websocket';
    req.url = exchange.path + exchange.query;

    let status = 101;
    let open = false;
    deps.webSockets.forward(req, socket, head, routing.backend, {
      opened() {
        exchange.upstreamMs = performance.now() - exchange.startedAt;
        open = true;
        deps.counted(exchange, 'upgraded', null);
        deps.opened(exchange, 1);
      },
      refused(answered) {
        status = answered;
        deps.counted(exchange, 'refused', answered >= 500 ? '5xx' : null);
      },
      failed(error) {
        status = 502;
        exchange.failure = `${routing.backend.name}: ${error.message}`;
        deps.counted(exchange, 'failed', (error as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'refused' : 'reset');
      },
      closed() {
        if (open) deps.opened(exchange, -1);
        deps.finished(exchange, status);
      },
    });
  };

  function refuse(exchange: Exchange, socket: Duplex, status: number, message: string): void {
    sendSocketError(socket, status, message, exchange.requestId);
    deps.finished(exchange, status);
  }
}

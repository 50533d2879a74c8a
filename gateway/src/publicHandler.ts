import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestIdOf } from '@mythoughts/runtime/http/requestId';
import type { Route, RouteTable } from './config/routeTable.ts';
import type { Decider } from './decide/routingDecision.ts';
import { Exchange } from './exchange.ts';
import { ClientBodyDeadline } from './forward/clientBody.ts';
import { sendJsonError } from './forward/errorResponse.ts';
import { NO_BODY, type Forwarder } from './forward/forwarder.ts';
import { prepareRequestHeaders } from './forward/headers.ts';
import { planBody, readBody } from './forward/replayBody.ts';
import type { ResponseStep } from './forward/responseSteps.ts';
import type { TimerWheel } from './forward/timerWheel.ts';
import { clientTrace, type RequestTracing } from './observe/tracing.ts';
import { resolveRoute } from './resolveRoute.ts';
import type { ShadowMirror } from './shadow/shadowMirror.ts';

export interface PublicHandlerDeps {
  /** The running plan; read once per request, so a reload never changes a request midway. */
  readonly plan: () => RouteTable;
  readonly decider: Decider;
  readonly forwarder: Forwarder;
  /** The steps every answer's head goes through (hop-by-hop, request id, cohort cookie, draining). */
  readonly responseSteps: readonly ResponseStep[];
  /** Copies of shadowed routes' requests to their candidate, compared off the client's path. */
  readonly shadow: ShadowMirror;
  readonly wheel: TimerWheel;
  readonly trustForwarded: boolean;
  readonly draining: () => boolean;
  /** The request's spans; null when tracing is off (the usual case: no tracing work at all). */
  readonly tracing: RequestTracing | null;
  /** Runs once per exchange, when the client's response is finished or cut: the observers. */
  readonly finished: (exchange: Exchange, req: IncomingMessage, res: ServerResponse) => void;
}

/** What the handler keeps on the response, so the one shared close listener finds it. */
const EXCHANGE = Symbol('gateway.exchange');
type TrackedResponse = ServerResponse & { [EXCHANGE]?: Exchange };

/**
 * The public port's request handler — no framework in between, the hot path reads top to
 * bottom: normalise → match → decide → forward, and observe when the response closes.
 */
export function createPublicHandler(deps: PublicHandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  // One listener function for every response (no closure per request).
  function onClose(this: TrackedResponse): void {
    const exchange = this[EXCHANGE]!;
    exchange.finished = true;
    exchange.upstream?.cancel();
    deps.finished(exchange, this.req, this);
  }

  return function handle(req, res) {
    const table = deps.plan();
    const exchange = new Exchange(performance.now(), requestIdOf(req.headers['x-request-id']), table, req.method ?? 'GET');
    if (deps.tracing !== null) deps.tracing.start(exchange, req);
    else if (req.headers.traceparent !== undefined) exchange.trace = clientTrace(req.headers.traceparent);
    (res as TrackedResponse)[EXCHANGE] = exchange;
    // 'close' comes once per response: a plain listener, not once()'s wrapper made per request.
    res.on('close', onClose);

    // normalise → match → deny
    const own = resolveRoute(exchange, req);
    if (own !== null) return sendJsonError(res, own.status, own.message, exchange.requestId, deps.draining());
    const route = exchange.route!;

    // decide
    const routing = deps.decider.decide(table, route, req.headers);
    exchange.routing = routing;
    exchange.decision = routing.decision;

    // forward: the back end receives the normalised path, so both sides see the same one.
    prepareRequestHeaders(req, exchange.requestId, deps.trustForwarded);
    req.url = exchange.path + exchange.query;
    forward(deps, exchange, req, res, table, route);
  };
}

function forward(deps: PublicHandlerDeps, exchange: Exchange, req: IncomingMessage, res: ServerResponse, table: RouteTable, route: Route): void {
  const backend = exchange.routing!.backend;
  const shadow = route.shadow === null ? null : deps.shadow.prepare(exchange, req, res, route.shadow, backend);
  const steps = shadow === null ? deps.responseSteps : [shadow.tapStep, ...deps.responseSteps];
  const replayWanted = route.fallback !== null && route.fallback !== backend;
  // A mirrored body is read once, within the larger cap, and serves both uses.
  const bodyCap = shadow === null ? table.replay.maxBodyBytes : Math.max(table.replay.maxBodyBytes, shadow.plan.maxBodyBytes);
  const body = planBody(req, bodyCap, replayWanted || shadow !== null);
  // The client's framing of its body, read just above; undici frames it again itself.
  if (req.headers['transfer-encoding'] !== undefined) delete req.headers['transfer-encoding'];
  if (body.kind === 'none') {
    deps.forwarder.forward(exchange, req, res, backend, NO_BODY, steps);
    shadow?.send(null);
    return;
  }
  new ClientBodyDeadline(exchange, res, table.timeouts.clientBodyMs, deps.wheel).watch(req);
  if (body.kind === 'stream') {
    deps.forwarder.forward(exchange, req, res, backend, { data: 'stream', replayable: false }, steps);
    shadow?.skip('the request body is streamed (chunked, or larger than the body caps)');
    return;
  }
  void readBody(req, body.length).then((buffer) => {
    if (buffer === null || exchange.finished || res.headersSent) {
      shadow?.skip('the client left before its body was read');
      return; // client went away or was too slow; the close records it
    }
    deps.forwarder.forward(exchange, req, res, backend, { data: buffer, replayable: body.length <= table.replay.maxBodyBytes }, steps);
    shadow?.send(buffer);
  });
}

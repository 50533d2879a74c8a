import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { requestIdOf } from '@mythoughts/shared/http/requestId';
import type { RouteTable } from './config/routeTable.ts';
import { chooseBackend } from './decide/chooseBackend.ts';
import { cohortKeyOf } from './decide/cohortKey.ts';
import { COHORT_COOKIE, newCohortCookie } from './decide/cookies.ts';
import type { OutlierDetector } from './decide/outlierDetector.ts';
import type { CachedTokenVerifier } from './decide/tokenCache.ts';
import { attachExchange, Exchange } from './exchange.ts';
import { sendJsonError } from './forward/errorResponse.ts';
import type { Forwarder } from './forward/forwarder.ts';
import { prepareRequestHeaders } from './forward/headers.ts';
import { planBody, readBody } from './forward/replayBody.ts';
import { normaliseTarget } from './match/normalisePath.ts';
import type { GatewayMetrics } from './observe/metrics.ts';
import { recordExchange } from './observe/observer.ts';

export interface PublicHandlerDeps {
  /** The running plan; read once per request, so a reload never changes a request midway. */
  readonly plan: () => RouteTable;
  readonly forwarder: Forwarder;
  readonly tokens: CachedTokenVerifier | null;
  readonly outliers: OutlierDetector;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly trustForwarded: boolean;
  readonly draining: () => boolean;
  readonly onFinished: () => void;
}

/**
 * The public port's request handler — no framework in between, the hot path reads top to
 * bottom: normalise → match → decide → forward, and observe when the response closes.
 */
export function createPublicHandler(deps: PublicHandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const isEjected = deps.outliers.isEjected.bind(deps.outliers);

  return function handle(req, res) {
    const table = deps.plan();
    const exchange = new Exchange(performance.now(), requestIdOf(req.headers['x-request-id']), table, req.method ?? 'GET');
    attachExchange(req, exchange);
    res.once('close', () => {
      exchange.finished = true;
      if (exchange.timer !== null) clearTimeout(exchange.timer);
      recordExchange(exchange, res, deps.metrics, deps.logger);
      deps.onFinished();
    });

    // normalise
    const target = normaliseTarget(req.url ?? '/');
    if (!target.ok) {
      exchange.path = (req.url ?? '').slice(0, 200);
      exchange.routeName = 'invalid_path';
      return sendJsonError(res, 400, target.message, exchange.requestId, deps.draining());
    }
    exchange.path = target.path;

    // match
    const route = table.match(target.path, exchange.method, req.headers);
    if (route === null) return sendJsonError(res, 404, 'Not found: no route for this path', exchange.requestId, deps.draining());
    exchange.route = route;
    exchange.routeName = route.name;
    if (route.deny !== null) return sendJsonError(res, route.deny, route.deny === 404 ? 'Not found' : 'Request denied', exchange.requestId, deps.draining());

    // decide
    const choice = chooseBackend(table, route, req.headers, () => clientKey(exchange, req, deps.tokens), isEjected);
    exchange.decision = choice.decision;

    // forward: the back end receives the normalised path, so both sides see the same one.
    prepareRequestHeaders(req, exchange.requestId, deps.trustForwarded);
    req.url = target.path + target.query;
    const replayWanted = route.fallback !== null && route.fallback !== choice.backend;
    const body = planBody(req, table.replay.maxBodyBytes, replayWanted);
    if (body.kind === 'stream') exchange.bodyReplayable = false;
    if (body.kind !== 'buffer') return deps.forwarder.forward(exchange, req, res, choice.backend);
    void readBody(req, body.length).then((buffer) => {
      if (buffer === null || exchange.finished) return; // client went away; the close records it
      exchange.body = buffer;
      deps.forwarder.forward(exchange, req, res, choice.backend);
    });
  };
}

/** The cohort key, or a new gw_cohort id (set as a cookie on the response) for a new client. */
function clientKey(exchange: Exchange, req: IncomingMessage, tokens: CachedTokenVerifier | null): string {
  const keys = exchange.table.cohort.keys;
  const key = cohortKeyOf(keys, req.headers, tokens);
  if (key !== null) return key;
  const cookie = newCohortCookie();
  // Without cookie:gw_cohort among the keys the id would not come back: the client is then
  // dealt afresh on each request (no stickiness), which is what such a file asks for.
  if (keys.some((k) => k.kind === 'cookie' && k.name === COHORT_COOKIE)) exchange.setCookie = cookie.header;
  return cookie.id;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { requestIdOf } from '@mythoughts/shared/http/requestId';
import type { RouteTable } from './config/routeTable.ts';
import { chooseBackend } from './decide/chooseBackend.ts';
import { cohortKeyOf } from './decide/cohortKey.ts';
import { COHORT_COOKIE, newCohortCookie } from './decide/cookies.ts';
import type { OutlierDetector } from './decide/outlierDetector.ts';
import type { OverrideGate } from './decide/override.ts';
import type { CachedTokenVerifier } from './decide/tokenCache.ts';
import { attachExchange, Exchange } from './exchange.ts';
import { sendJsonError } from './forward/errorResponse.ts';
import type { Forwarder } from './forward/forwarder.ts';
import { prepareRequestHeaders } from './forward/headers.ts';
import { planBody, readBody } from './forward/replayBody.ts';
import { normaliseTarget } from './match/normalisePath.ts';
import { recordExchange } from './observe/observer.ts';
import type { RequestCounters } from './observe/requestCounters.ts';
import type { RecentTraffic } from './observe/recentTraffic.ts';
import type { ShadowMirror } from './shadow/shadowMirror.ts';

export interface PublicHandlerDeps {
  /** The running plan; read once per request, so a reload never changes a request midway. */
  readonly plan: () => RouteTable;
  readonly forwarder: Forwarder;
  readonly tokens: CachedTokenVerifier | null;
  readonly outliers: OutlierDetector;
  /** Decides X-Gateway-Backend requests (signed token or tester JWT). */
  readonly overrides: OverrideGate;
  /** Copies of shadowed routes' requests to their candidate, compared off the client's path. */
  readonly shadow: ShadowMirror;
  /** Per-request metrics; null when switched off (GATEWAY_METRICS=off, for measuring). */
  readonly counters: RequestCounters | null;
  /** The access log; null when switched off (GATEWAY_ACCESS_LOG=off, for measuring). */
  readonly accessLog: Logger | null;
  /** The last minutes of traffic, for the admin API and the dashboard. */
  readonly traffic: RecentTraffic;
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
      recordExchange(exchange, res, deps.counters, deps.accessLog);
      deps.traffic.record(exchange, req, res);
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

    // decide: a tester's proven override, else the client's cohort
    const override = deps.overrides.check(req.headers, route, table.testers);
    if (override?.kind === 'refused') exchange.overrideRefused = override.reason;
    const choice = override?.kind === 'granted' ? override : chooseBackend(route, () => clientKey(exchange, req, deps.tokens), isEjected);
    exchange.decision = choice.decision;

    // forward: the back end receives the normalised path, so both sides see the same one.
    prepareRequestHeaders(req, exchange.requestId, deps.trustForwarded);
    req.url = target.path + target.query;
    const shadow = route.shadow === null ? null : deps.shadow.prepare(exchange, req, res, route.shadow, choice.backend);
    const replayWanted = route.fallback !== null && route.fallback !== choice.backend;
    // A mirrored body is read once, within the larger cap, and serves both uses.
    const bodyCap = shadow === null ? table.replay.maxBodyBytes : Math.max(table.replay.maxBodyBytes, shadow.plan.maxBodyBytes);
    const body = planBody(req, bodyCap, replayWanted || shadow !== null);
    if (body.kind === 'stream' || (body.kind === 'buffer' && body.length > table.replay.maxBodyBytes)) exchange.bodyReplayable = false;
    if (body.kind !== 'buffer') {
      deps.forwarder.forward(exchange, req, res, choice.backend);
      if (body.kind === 'none') shadow?.send(null);
      else shadow?.skip('the request body is streamed (chunked, or larger than the body caps)');
      return;
    }
    void readBody(req, body.length).then((buffer) => {
      if (buffer === null || exchange.finished) {
        shadow?.skip('the client left before its body was read');
        return; // client went away; the close records it
      }
      exchange.body = buffer;
      deps.forwarder.forward(exchange, req, res, choice.backend);
      shadow?.send(buffer);
    });
  };
}

/** The cohort key, or a new gw_cohort id (set as a cookie on the response) for a new client. */
function clientKey(exchange: Exchange, req: IncomingMessage, tokens: CachedTokenVerifier | null): string {
  const keys = exchange.table.cohort.keys;
  const key = cohortKeyOf(keys, req.headers, tokens);
  exchange.cohortKey = key;
  if (key !== null) return key;
  const cookie = newCohortCookie();
  // Without cookie:gw_cohort among the keys the id would not come back: the client is then
  // dealt afresh on each request (no stickiness), which is what such a file asks for.
  if (keys.some((k) => k.kind === 'cookie' && k.name === COHORT_COOKIE)) exchange.setCookie = cookie.header;
  return cookie.id;
}

import type { IncomingMessage } from 'node:http';
import type { Exchange } from './exchange.ts';
import { normaliseTarget } from './match/normalisePath.ts';

/** The gateway's own answer instead of forwarding: a status and a message for the client. */
export interface OwnAnswer {
  readonly status: number;
  readonly message: string;
}

const NO_ROUTE: OwnAnswer = Object.freeze({ status: 404, message: 'Not found: no route for this path' });

/**
 * normalise → match → deny, for HTTP requests and WebSocket upgrades alike: fills in the
 * exchange's path, query and route, and returns null when the request is to be forwarded,
 * else the answer the gateway gives itself (400 bad path, 404 no route, the route's deny).
 */
export function resolveRoute(exchange: Exchange, req: IncomingMessage): OwnAnswer | null {
  const target = normaliseTarget(req.url ?? '/');
  if (!target.ok) {
    exchange.path = (req.url ?? '').slice(0, 200);
    exchange.routeName = 'invalid_path';
    return { status: 400, message: target.message };
  }
  exchange.path = target.path;
  exchange.query = target.query;
  const route = exchange.table.match(target.path, exchange.method, req.headers);
  if (route === null) return NO_ROUTE;
  exchange.route = route;
  exchange.routeName = route.name;
  if (route.deny !== null) return { status: route.deny, message: route.deny === 404 ? 'Not found' : 'Request denied' };
  return null;
}

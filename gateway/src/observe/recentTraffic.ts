import type { IncomingMessage, ServerResponse } from 'node:http';
import { cohortKeyOf, type ClientProof } from '../decide/cohortKey.ts';
import type { Exchange } from '../exchange.ts';
import { RecentClients } from './recentClients.ts';
import { TrafficWindow } from './trafficWindow.ts';

/**
 * What the ops tools need to know about the last minutes of traffic, fed once per finished
 * exchange (after the response, off the client's time): the per-route counts and, for
 * forwarding routes, the client's cohort bucket. The key is read here even when the split
 * did not need one (0 % or 100 %), because that is exactly when an operator asks "how many
 * clients would move if I go to 10 %?". A client without any key yet is new: it is dealt
 * on its first request under whatever split runs then, so it is not counted.
 */
export class RecentTraffic {
  readonly window: TrafficWindow;
  readonly clients: RecentClients;

  constructor(
    private readonly proof: ClientProof,
    windowMs = 300_000,
  ) {
    this.window = new TrafficWindow(windowMs);
    this.clients = new RecentClients(windowMs);
  }

  record(exchange: Exchange, req: IncomingMessage, res: ServerResponse): void {
    const status = res.headersSent ? res.statusCode : 499;
    this.window.record(exchange.routeName, exchange.backendName, status, performance.now() - exchange.startedAt);
    const route = exchange.route;
    if (route === null || route.deny !== null) return;
    const known = exchange.routing?.cohortKey;
    const key = known !== undefined ? known : cohortKeyOf(exchange.table.cohort.keys, req.headers, this.proof);
    if (key !== null) this.clients.record(route.seed, key);
  }
}

import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Backend, Route, RouteTable } from './config/routeTable.ts';
import type { Decision } from './decide/chooseBackend.ts';
import type { ResponseTap } from './shadow/capturedResponse.ts';

/**
 * One client request's way through the gateway: what was decided and what happened, read
 * at the end by the access log and the metrics. A class with every field initialised, so
 * all exchanges share one shape (fast property access on the hot path).
 */
export class Exchange {
  /** Normalised path, or the raw target when it could not be normalised. */
  path = '';
  route: Route | null = null;
  /** Metric label: the route's name, or `unmatched` / `invalid_path` when there is none. */
  routeName = 'unmatched';
  backend: Backend | null = null;
  decision: Decision = 'deny';
  /** Forwarding attempts so far (1, or 2 after a fallback). */
  attempts = 0;
  upstreamStartedAt = 0;
  /** Milliseconds from sending the request upstream to its response head; -1 if none. */
  upstreamMs = -1;
  /** The attempt's request to the back end, once it has a socket. */
  proxyReq: ClientRequest | null = null;
  /** The attempt's request may have reached the back end (its connection was established). */
  reachedBackend = false;
  timer: NodeJS.Timeout | null = null;
  /** Whether the body can be sent a second time: absent, or buffered here. */
  bodyReplayable = true;
  body: Buffer | null = null;
  /**
   * The client's cohort key as read while deciding (null: none sent), kept so the traffic
   * window does not parse cookies or look up the token again; undefined: not read.
   */
  cohortKey: string | null | undefined = undefined;
  /** `Set-Cookie` to add to the response (a new gw_cohort id), or null. */
  setCookie: string | null = null;
  /** Last upstream failure reason, for the access log. */
  failure: string | null = null;
  /** Why an X-Gateway-Backend request was not honoured, for the access log; null if none was made. */
  overrideRefused: string | null = null;
  /** Reads the answer sent to the client for shadow comparison; null when not mirrored (the usual case). */
  tap: ResponseTap | null = null;
  finished = false;

  constructor(
    readonly startedAt: number,
    readonly requestId: string,
    readonly table: RouteTable,
    readonly method: string,
  ) {}

  get backendName(): string {
    return this.backend?.name ?? 'none';
  }
}

const EXCHANGE = Symbol('gateway.exchange');

export function attachExchange(req: IncomingMessage, exchange: Exchange): void {
  (req as IncomingMessage & { [EXCHANGE]?: Exchange })[EXCHANGE] = exchange;
}

export function exchangeOf(req: IncomingMessage): Exchange | undefined {
  return (req as IncomingMessage & { [EXCHANGE]?: Exchange })[EXCHANGE];
}

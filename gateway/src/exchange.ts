import type { Backend, Route, RouteTable } from './config/routeTable.ts';
import type { Decision } from './decide/chooseBackend.ts';
import type { RoutingDecision } from './decide/routingDecision.ts';

/** What the forwarder lets others do with a request it is sending: give it up, silently. */
export interface UpstreamHandle {
  /** Stops the attempt without counting it against the back end (the client's fault, or gone). */
  cancel(): void;
}

/** The request's trace ids, for the access log (observe/tracing.ts makes them). */
export interface ExchangeTrace {
  readonly traceId: string;
  /** The gateway's server span; '' when tracing is off (the id is then the client's). */
  readonly spanId: string;
}

/**
 * One client request's record, read at the end by the access log and the metrics. Each
 * field has one writer: the handler sets what the request is (path, route, routing), the
 * forwarder what came of it (backend, decision after a fallback, attempts, upstreamMs,
 * failure). A class with every field initialised, so all exchanges share one shape.
 */
export class Exchange {
  /** Normalised path, or the raw target when it could not be normalised. */
  path = '';
  /** The query string as sent, with its leading `?`, or ''. */
  query = '';
  route: Route | null = null;
  /** Metric label: the route's name, or `unmatched` / `invalid_path` when there is none. */
  routeName = 'unmatched';
  /** The decision made for a forwarding route; null when the gateway answered itself. */
  routing: RoutingDecision | null = null;
  /** The backend of the last attempt. */
  backend: Backend | null = null;
  /** The `decision` label: the routing decision's, or `fallback` after a replay. */
  decision: Decision = 'deny';
  /** Forwarding attempts so far (1, or 2 after a fallback). */
  attempts = 0;
  /** Milliseconds from the end of the request body to the response head; -1 if none. */
  upstreamMs = -1;
  /** Last upstream failure, for the access log. */
  failure: string | null = null;
  /** Trace ids: the gateway's span, or with tracing off the client's trace id if it sent one; null: neither. */
  trace: ExchangeTrace | null = null;
  /** The attempt in flight, so a client too slow or gone can end it; null when none. */
  upstream: UpstreamHandle | null = null;
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

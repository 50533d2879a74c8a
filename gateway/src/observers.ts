import type { IncomingHttpHeaders, IncomingMessage, ServerResponse, Server } from 'node:http';
import type { RouteTable, Backend } from './config/routeTable.ts';
import type { OutlierDetector } from './decide/outlierDetector.ts';
import type { Exchange } from './exchange.ts';
import type { AttemptInfo, UpstreamEvents, UpstreamFailure } from './forward/upstream.ts';
import type { AccessLog } from './observe/accessLog.ts';
import type { GatewayMetrics } from './observe/metrics.ts';
import { recordExchange, recordOutcome } from './observe/observer.ts';
import type { RecentTraffic } from './observe/recentTraffic.ts';
import type { RequestCounters } from './observe/requestCounters.ts';
import type { RequestTracing } from './observe/tracing.ts';

/** What every observer of the data plane reports to. */
export interface ObserverSinks {
  readonly metrics: GatewayMetrics;
  /** Null with GATEWAY_METRICS=off. */
  readonly counters: RequestCounters | null;
  /** Null with GATEWAY_ACCESS_LOG=off. */
  readonly accessLog: AccessLog | null;
  /** Null when tracing is off. */
  readonly tracing: RequestTracing | null;
  readonly outliers: OutlierDetector;
  readonly plan: () => RouteTable;
}

/**
 * Each attempt's outcome: the upstream error and attempt counters, outlier detection's
 * failure and success counts, and the attempt's span.
 */
export class AttemptObserver implements UpstreamEvents {
  readonly started?: (exchange: Exchange, attempt: AttemptInfo, headers: IncomingHttpHeaders) => void;

  constructor(private readonly sinks: ObserverSinks) {
    // Only with tracing on: without it the forwarder skips the hook altogether.
    if (sinks.tracing !== null) this.started = sinks.tracing.attemptStarted.bind(sinks.tracing);
  }

  failed(exchange: Exchange, backend: Backend, reason: UpstreamFailure): void {
    const { metrics, outliers, tracing, plan } = this.sinks;
    metrics.upstreamErrors.inc({ backend: backend.name, reason });
    metrics.countAttempt(exchange.routeName, backend.name, reason);
    outliers.recordFailure(backend, plan().outlier);
    tracing?.attemptFailed(exchange, reason);
  }

  answered(exchange: Exchange, backend: Backend, status: number): void {
    this.sinks.metrics.countAttempt(exchange.routeName, backend.name, 'ok');
    this.sinks.outliers.recordSuccess(backend);
    this.sinks.tracing?.attemptAnswered(exchange, status);
  }
}

/** In-flight requests and the draining state the public server's shutdown needs. */
export class ServerActivity {
  inFlight = 0;
  draining = false;
  server: Server | null = null;
}

/** The end of every exchange on the public port: span, counters, access log, recent traffic. */
export class ExchangeFinisher {
  constructor(
    private readonly sinks: ObserverSinks,
    private readonly traffic: RecentTraffic,
    private readonly activity: ServerActivity,
  ) {}

  readonly finished = (exchange: Exchange, req: IncomingMessage, res: ServerResponse): void => {
    const { metrics, counters, accessLog, tracing } = this.sinks;
    tracing?.finish(exchange, res);
    // Served elsewhere because outlier detection had taken its backend out: still a failed try of
    // that backend, or a rollout's gates would see an ejected service as one with too few requests.
    const ejected = exchange.routing?.ejected;
    if (ejected) metrics.countAttempt(exchange.routeName, ejected.name, 'ejected');
    recordExchange(exchange, res, counters, accessLog);
    this.traffic.record(exchange, req, res);
    const activity = this.activity;
    activity.inFlight -= 1;
    // Once the listener is closed, a keep-alive connection whose last answer went out before the
    // drain began (without `Connection: close`) is closed as soon as it is idle, so shutdown does
    // not wait for it. Not during the drain delay: its client, never told to close, may be
    // sending its next request on it at that moment, and that request would be dropped.
    if (activity.draining && activity.server !== null && !activity.server.listening) activity.server.closeIdleConnections();
  };
}

/** WebSocket upgrades: their counters, the open-sockets gauge, outlier detection, and the access line when one closes. */
export class UpgradeObserver {
  constructor(private readonly sinks: ObserverSinks) {}

  readonly counted = (exchange: Exchange, result: 'upgraded' | 'refused' | 'failed', failure: UpstreamFailure | null): void => {
    const { metrics, outliers, plan } = this.sinks;
    metrics.webSocketUpgrades.inc({ route: exchange.routeName, backend: exchange.backendName, result });
    if (failure !== null) {
      metrics.upstreamErrors.inc({ backend: exchange.backendName, reason: failure });
      outliers.recordFailure(exchange.backend!, plan().outlier);
    } else if (result === 'upgraded') outliers.recordSuccess(exchange.backend!);
  };

  readonly opened = (exchange: Exchange, delta: 1 | -1): void => {
    this.sinks.metrics.webSocketsOpen.inc({ route: exchange.routeName, backend: exchange.backendName }, delta);
  };

  readonly finished = (exchange: Exchange, status: number): void => {
    recordOutcome(exchange, status, false, this.sinks.counters, this.sinks.accessLog);
  };
}

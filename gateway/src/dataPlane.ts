import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { listen } from '@mythoughts/runtime/http/listen';
import type { RouteTable } from './config/routeTable.ts';
import type { CohortCookies } from './decide/cohortCookie.ts';
import { OutlierDetector } from './decide/outlierDetector.ts';
import type { OverrideGate } from './decide/override.ts';
import { Decider } from './decide/routingDecision.ts';
import type { CachedTokenVerifier } from './decide/tokenCache.ts';
import type { Exchange } from './exchange.ts';
import { sendSocketError } from './forward/errorResponse.ts';
import { Forwarder } from './forward/forwarder.ts';
import { UpstreamPools } from './forward/pools.ts';
import { addRequestId, closeWhileDraining, stripHopByHop, type ResponseStep } from './forward/responseSteps.ts';
import { TimerWheel } from './forward/timerWheel.ts';
import { WebSocketForwarder } from './forward/webSockets.ts';
import { closeNow, drain } from './drain.ts';
import { AttemptObserver, ExchangeFinisher, ServerActivity, UpgradeObserver, type ObserverSinks } from './observers.ts';
import type { Observability } from './observe/observability.ts';
import { RecentTraffic } from './observe/recentTraffic.ts';
import { createPublicHandler } from './publicHandler.ts';
import { ShadowClient } from './shadow/shadowClient.ts';
import { ShadowMirror, type ShadowFindings } from './shadow/shadowMirror.ts';
import { createUpgradeHandler } from './upgradeHandler.ts';

export interface DataPlaneDeps {
  readonly plan: () => RouteTable;
  readonly observability: Observability;
  readonly proof: { readonly tokens: CachedTokenVerifier | null; readonly cookies: CohortCookies };
  readonly overrides: OverrideGate;
  readonly shadowFindings: ShadowFindings;
  readonly trustForwarded: boolean;
}

/**
 * The request path, built but not yet listening: match → decide → forward (shadow beside it),
 * observed by named observers. It owns the public server, its upstream pools and timers, and
 * its shutdown (drain, then release).
 */
export class DataPlane {
  readonly server: Server;
  readonly traffic: RecentTraffic;
  private readonly activity = new ServerActivity();
  private readonly pools = new UpstreamPools();
  private readonly wheel = new TimerWheel();
  private readonly webSockets = new WebSocketForwarder();
  private readonly shadow: ShadowMirror;
  private readonly outliers: OutlierDetector;

  constructor(private readonly deps: DataPlaneDeps) {
    const { observability, plan } = deps;
    const { metrics, logger } = observability;
    this.traffic = new RecentTraffic(deps.proof);
    this.shadow = new ShadowMirror({
      client: new ShadowClient(),
      ...deps.shadowFindings,
      metrics,
      logger,
      tracing: observability.requestTracing,
      tokens: deps.proof.tokens,
    });
    const outliers = new OutlierDetector((backend, cooldownMs) => {
      metrics.ejections.inc({ backend: backend.name });
      logger.warn({ backend: backend.name, cooldownMs }, `backend ${backend.name} ejected from splits after consecutive failures`);
    });
    this.outliers = outliers;
    outliers.planApplied(plan());
    metrics.showEjections(() => outliers.ejectedSince());
    const sinks: ObserverSinks = {
      metrics,
      counters: observability.counters,
      accessLog: observability.accessLog,
      tracing: observability.requestTracing,
      outliers,
      plan,
    };
    const activity = this.activity;
    const draining = () => activity.draining;
    const forwarder = new Forwarder(this.pools, new AttemptObserver(sinks), this.wheel, draining);
    // Every answer's head, in order; a shadowed request's tap runs first (publicHandler.ts).
    const responseSteps: readonly ResponseStep[] = [stripHopByHop, addRequestId, addCohortCookie, closeWhileDraining(draining)];
    const decider = new Decider(deps.overrides, deps.proof, outliers);
    const finisher = new ExchangeFinisher(sinks, this.traffic, activity);
    const handler = createPublicHandler({
      plan,
      decider,
      forwarder,
      responseSteps,
      shadow: this.shadow,
      wheel: this.wheel,
      trustForwarded: deps.trustForwarded,
      draining,
      tracing: observability.requestTracing,
      finished: finisher.finished,
    });
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      activity.inFlight += 1;
      handler(req, res);
    });
    activity.server = this.server;
    this.server.on('clientError', answerClientError);
    const upgrades = new UpgradeObserver(sinks);
    this.server.on(
      'upgrade',
      createUpgradeHandler({
        plan,
        decider,
        webSockets: this.webSockets,
        trustForwarded: deps.trustForwarded,
        draining,
        counted: upgrades.counted,
        opened: upgrades.opened,
        finished: upgrades.finished,
      }),
    );
  }

  /** A new plan runs: a backend it gives a share again (a rollout restarted after its rollback) is re-admitted at once. */
  planApplied(table: RouteTable): void {
    for (const backend of this.outliers.planApplied(table))
      this.deps.observability.logger.info({ backend }, `backend ${backend} re-admitted: the new plan gives it a share again`);
  }

  get draining(): boolean {
    return this.activity.draining;
  }

  /** Opens the public port; its number. */
  listen(port: number, host: string): Promise<number> {
    return listen(this.server, { port, host, portVariable: 'GATEWAY_PORT' });
  }

  /** Marks the gateway as draining: answers say `Connection: close`, /readyz says 503. */
  startDraining(): void {
    this.activity.draining = true;
  }

  /** No new connections; in-flight requests finish (bounded by `timeoutMs`); then everything is released. */
  async close(timeoutMs: number, logger: Logger): Promise<void> {
    this.activity.draining = true;
    logger.info({ inFlight: this.activity.inFlight }, 'gateway shutting down: no new connections, finishing in-flight requests');
    // An open WebSocket would hold the listener open for ever: its clients reconnect elsewhere.
    this.webSockets.closeAll();
    if (this.server.listening) await drain(this.server, timeoutMs, logger);
    await this.shadow.close();
  }

  /** After close and the last spans: the timers and upstream connections. */
  async release(): Promise<void> {
    this.wheel.stop();
    await this.pools.destroyAll();
  }

  /** For a start that failed half way: the port closed at once. */
  async abort(): Promise<void> {
    if (this.server.listening) await closeNow(this.server);
    await this.release();
  }
}

/** The cohort id the gateway just dealt, sent back so the client keeps its side. */
const addCohortCookie: ResponseStep = (head, exchange: Exchange) => {
  const cookie = exchange.routing?.setCookie;
  if (cookie) head.headers.push('set-cookie', cookie);
};

/**
 * A malformed request never reaches the handler: answer it like the gateway's other errors,
 * a header block over Node's limit with 431 (RFC 6585), anything else with 400.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'HPE_HEADER_OVERFLOW')
    sendSocketError(socket, 431, 'Request header fields too large: the request line and headers must stay under 16 KiB together', null);
  else sendSocketError(socket, 400, `Bad request: ${error.code ?? 'malformed HTTP'}`, null);
}

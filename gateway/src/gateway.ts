import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { ConfigError } from '@mythoughts/shared/errors';
import { listen, urlOf } from '@mythoughts/shared/http/listen';
import { startTracing, type Tracing } from '@mythoughts/shared/tracing/setup';
import { createTokenVerifier } from '@mythoughts/shared/tokens';
import { AdminHostPolicy, checkAdminExposure } from './admin/adminAccess.ts';
import { createAdminApp } from './admin/adminApp.ts';
import { describeProblems } from './config/compileRouteTable.ts';
import { formatProblem } from './config/problems.ts';
import type { RouteTable } from './config/routeTable.ts';
import { urlOverrideOf } from './config/validateBackends.ts';
import { OutlierDetector } from './decide/outlierDetector.ts';
import { CohortCookies } from './decide/cohortCookie.ts';
import { OverrideGate } from './decide/override.ts';
import { MIN_SECRET_LENGTH } from './decide/overrideToken.ts';
import { Decider } from './decide/routingDecision.ts';
import { CachedTokenVerifier } from './decide/tokenCache.ts';
import type { Exchange } from './exchange.ts';
import { sendSocketError } from './forward/errorResponse.ts';
import { Forwarder } from './forward/forwarder.ts';
import { UpstreamPools } from './forward/pools.ts';
import { addRequestId, closeWhileDraining, stripHopByHop, type ResponseStep } from './forward/responseSteps.ts';
import { TimerWheel } from './forward/timerWheel.ts';
import { WebSocketForwarder } from './forward/webSockets.ts';
import { LivePlan, type ReloadResult } from './plan/livePlan.ts';
import { PlanStore } from './plan/planStore.ts';
import { RecentTraffic } from './observe/recentTraffic.ts';
import { AccessLog } from './observe/accessLog.ts';
import { createGatewayLogger } from './observe/logger.ts';
import { GatewayMetrics } from './observe/metrics.ts';
import { RequestTracing } from './observe/tracing.ts';
import { recordExchange, recordOutcome } from './observe/observer.ts';
import { PlanChangeCounter } from './plan/planChanges.ts';
import { createPublicHandler } from './publicHandler.ts';
import type { RolloutController } from './rollout/rolloutController.ts';
import { startRolloutController, type RolloutSetup } from './rollout/rolloutSetup.ts';
import { createUpgradeHandler } from './upgradeHandler.ts';
import { MismatchStore } from './shadow/mismatchStore.ts';
import { NoiseModel } from './shadow/noiseModel.ts';
import { ShadowClient } from './shadow/shadowClient.ts';
import { ShadowMirror, type ShadowFindings } from './shadow/shadowMirror.ts';
import { closeNow, drain } from './drain.ts';

export interface GatewayOptions {
  /** The routes.yaml to run (and watch). */
  routesFile: string;
  /** Public port; 0 picks a free one (tests). Default 8080. */
  port?: number;
  /** Default 0.0.0.0. */
  host?: string;
  /** Admin port; 0 picks a free one; null runs no admin server. Default 9901. */
  adminPort?: number | null;
  /** Default 127.0.0.1; anything else requires adminToken. */
  adminHost?: string;
  adminToken?: string | null;
  /** Further Host names (`name[:port]`) the admin port answers, besides its loopback ones; needs adminToken (GATEWAY_ADMIN_HOSTS). */
  adminHosts?: readonly string[];
  /** Replacement backend URLs by backend name (default: GATEWAY_BACKEND_<NAME>_URL from process.env). */
  backendUrls?: Readonly<Record<string, string>>;
  /** PEM of the RS256 public key; without it the `jwt:username` cohort key never applies. */
  jwtPublicKeyPem?: string | null;
  /** Keep client-sent X-Forwarded-* (only behind a trusted proxy). Default false. */
  trustForwarded?: boolean;
  /** Watch routesFile for changes. Default true. */
  watch?: boolean;
  /** Bound on waiting for in-flight requests at close. Default 10 000 ms. */
  shutdownTimeoutMs?: number;
  /**
   * At close, how long /readyz answers 503 while the public port still accepts, so load
   * balancers (a Kubernetes Service) stop sending before the listener closes. Default 0.
   */
  drainDelayMs?: number;
  /** Default: JSON lines to stdout, asynchronously. */
  logger?: Logger;
  /**
   * Diagnostic switches, to measure what a feature costs (bench/variants.ts): `false` stops
   * the per-request counter and histogram (GATEWAY_METRICS=off). Default true.
   */
  requestMetrics?: boolean;
  /** Access log: unset or 'stdout' = through `logger`; 'off' = none (GATEWAY_ACCESS_LOG=off); else a file to append to. */
  accessLog?: string;
  /** Node process metrics on /metrics. Default true. */
  defaultMetrics?: boolean;
  /**
   * HMAC secret of the gw_cohort cookie (GATEWAY_COHORT_SECRET, its file, or the dev key
   * under data/keys; 32+ characters); replicas share it. Default: random, this process only.
   */
  cohortSecret?: string;
  /** HMAC secret of override tokens (GATEWAY_OVERRIDE_SECRET); without it only tester JWTs can override. */
  overrideSecret?: string | null;
  /** The rollout controller (routes with a `rollout:` block); false: another process runs it (GATEWAY_ROLLOUT=off). Default on, gates from this process. */
  rollout?: RolloutSetup | false;
  /** Where shifts and panics are recorded. Default: $GATEWAY_AUDIT_LOG, else routes.audit.jsonl beside routesFile. */
  auditLogFile?: string;
  /** Tracing to export to. Default: from the OTEL_* variables of process.env (off when they are unset). */
  tracing?: Tracing;
}

export interface Gateway {
  /** `http://127.0.0.1:<port>` of the public port. */
  readonly url: string;
  readonly port: number;
  readonly adminUrl: string | null;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Shadow traffic's last mismatches and learnt noise (also on the admin API). */
  readonly shadowFindings: ShadowFindings;
  /** Null when GATEWAY_ROLLOUT=off. */
  readonly rollout: RolloutController | null;
  /** The plan running now. */
  table(): RouteTable;
  /** Re-reads routes.yaml now (what SIGHUP does). */
  reload(): Promise<ReloadResult>;
  /** Stops accepting, lets in-flight requests finish (bounded), then releases everything. */
  close(): Promise<void>;
}

/**
 * Starts a gateway: loads the plan (an invalid file is a ConfigError listing every problem),
 * opens the public and admin ports, and watches the file. Signals are the caller's business
 * (see cli.ts), so tests can run several gateways in one process.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const logger = options.logger ?? createGatewayLogger();
  const metrics = new GatewayMetrics({ defaultMetrics: options.defaultMetrics ?? true });
  const adminHost = options.adminHost ?? '127.0.0.1';
  const adminToken = options.adminToken || null;
  // A cluster worker serves no admin port: its primary checked this before forking.
  if (options.adminPort !== null) checkAdminExposure(options);
  const urlOverride = urlOverrideOf(options.backendUrls);

  const store = new PlanStore({ file: options.routesFile, auditFile: options.auditLogFile, urlOverride });
  let rollout: RolloutController | null = null;
  const planChanges = new PlanChangeCounter(store, metrics.planChanges);
  const loaded = await LivePlan.load(store, {
    applied(table, trigger) {
      metrics.showPlan(table);
      planChanges.showPlan(table);
      rollout?.planChanged();
      if (trigger !== 'start') {
        metrics.reloads.inc({ result: 'success' });
        planChanges
          .planRunning(plan.snapshot.version)
          .catch((error: Error) => logger.warn({ err: error }, 'reading the audit log for the migration annotations failed'));
      }
      logger.info({ file: table.file, trigger, routes: table.summary() }, trigger === 'start' ? 'routes loaded' : 'routes reloaded: new plan running');
    },
    rejected(problems, trigger) {
      metrics.reloads.inc({ result: 'failure' });
      metrics.lastReloadSuccessful.set(0);
      logger.error({ file: options.routesFile, trigger, problems: problems.map(formatProblem) }, 'routes.yaml rejected: the running plan stays in force');
    },
  });
  if (!(loaded instanceof LivePlan)) throw new ConfigError(`${options.routesFile} is not a valid routes file:\n${describeProblems(loaded)}`);
  const plan = loaded;
  if (options.rollout !== false) {
    rollout = await startRolloutController(options.rollout ?? {}, {
      store,
      routesFile: options.routesFile,
      registry: metrics.registry,
      localMetrics: { read: async () => new Map([[String(process.pid), await metrics.registry.getMetricsAsJSON()]]), name: "this process's metrics" },
      logger,
    });
  }

  let tokens: CachedTokenVerifier | null = null;
  if (options.jwtPublicKeyPem) tokens = new CachedTokenVerifier(createTokenVerifier(options.jwtPublicKeyPem));
  else logger.warn('no JWT public key (JWT_PUBLIC_KEY_FILE unset): the jwt:username cohort key is never used; clients are recognised by cookies only');
  if (options.cohortSecret !== undefined && options.cohortSecret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`GATEWAY_COHORT_SECRET is ${options.cohortSecret.length} characters; use at least ${MIN_SECRET_LENGTH} (e.g. openssl rand -hex 32)`);
  }
  // Without a configured secret (in-process use, tests) the cookies hold for this process only.
  const proof = { tokens, cookies: new CohortCookies(options.cohortSecret ?? randomBytes(32).toString('hex')) };
  const traffic = new RecentTraffic(proof);
  const overrideSecret = options.overrideSecret || null;
  if (overrideSecret !== null && overrideSecret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`GATEWAY_OVERRIDE_SECRET is ${overrideSecret.length} characters; use at least ${MIN_SECRET_LENGTH} (e.g. openssl rand -hex 32)`);
  }
  const overrides = new OverrideGate(overrideSecret, tokens);
  const shadowFindings: ShadowFindings = { store: new MismatchStore(), noise: new NoiseModel() };
  const tracing = options.tracing ?? startTracing('gateway', process.env);
  const requestTracing = RequestTracing.of(tracing);
  const shadow = new ShadowMirror({ client: new ShadowClient(), ...shadowFindings, metrics, logger, tracing: requestTracing, tokens });

  const accessLog =
    options.accessLog === 'off'
      ? null
      : options.accessLog && options.accessLog !== 'stdout'
        ? AccessLog.toFile(options.accessLog)
        : AccessLog.throughLogger(logger);
  const counters = options.requestMetrics === false ? null : metrics.counters;
  let draining = false;
  let inFlight = 0;
  const pools = new UpstreamPools();
  const wheel = new TimerWheel();
  const outliers = new OutlierDetector((backend, cooldownMs) => {
    metrics.ejections.inc({ backend: backend.name });
    logger.warn({ backend: backend.name, cooldownMs }, `backend ${backend.name} ejected from splits after consecutive failures`);
  });
  const forwarder = new Forwarder(
    pools,
    {
      // Only with tracing on: without it the forwarder skips the hook altogether.
      ...(requestTracing === null ? {} : { started: requestTracing.attemptStarted.bind(requestTracing) }),
      failed(exchange, backend, reason) {
        metrics.upstreamErrors.inc({ backend: backend.name, reason });
        metrics.countAttempt(exchange.routeName, backend.name, reason);
        outliers.recordFailure(backend, plan.table.outlier);
        requestTracing?.attemptFailed(exchange, reason);
      },
      answered(exchange, backend, status) {
        metrics.countAttempt(exchange.routeName, backend.name, 'ok');
        outliers.recordSuccess(backend);
        requestTracing?.attemptAnswered(exchange, status);
      },
    },
    wheel,
    () => draining,
  );
  // Every answer's head, in order; a shadowed request's tap runs first (publicHandler.ts).
  const responseSteps: readonly ResponseStep[] = [stripHopByHop, addRequestId, addCohortCookie, closeWhileDraining(() => draining)];
  const decider = new Decider(overrides, proof, outliers);
  const handler = createPublicHandler({
    plan: () => plan.table,
    decider,
    forwarder,
    responseSteps,
    shadow,
    wheel,
    trustForwarded: options.trustForwarded ?? false,
    draining: () => draining,
    tracing: requestTracing,
    finished(exchange, req, res) {
      requestTracing?.finish(exchange, res);
      // Served elsewhere because outlier detection had taken its backend out: still a failed try of
      // that backend, or a rollout's gates would see an ejected service as one with too few requests.
      const ejected = exchange.routing?.ejected;
      if (ejected) metrics.countAttempt(exchange.routeName, ejected.name, 'ejected');
      recordExchange(exchange, res, counters, accessLog);
      traffic.record(exchange, req, res);
      inFlight -= 1;
      // Once the listener is closed, a keep-alive connection whose last answer went out before the
      // drain began (without `Connection: close`) is closed as soon as it is idle, so shutdown does
      // not wait for it. Not during the drain delay: its client, never told to close, may be
      // sending its next request on it at that moment, and that request would be dropped.
      if (draining && !server.listening) server.closeIdleConnections();
    },
  });
  const server: Server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    inFlight += 1;
    handler(req, res);
  });
  server.on('clientError', answerClientError);
  const webSockets = new WebSocketForwarder();
  server.on(
    'upgrade',
    createUpgradeHandler({
      plan: () => plan.table,
      decider,
      webSockets,
      trustForwarded: options.trustForwarded ?? false,
      draining: () => draining,
      counted(exchange, result, failure) {
        metrics.webSocketUpgrades.inc({ route: exchange.routeName, backend: exchange.backendName, result });
        if (failure !== null) {
          metrics.upstreamErrors.inc({ backend: exchange.backendName, reason: failure });
          outliers.recordFailure(exchange.backend!, plan.table.outlier);
        } else if (result === 'upgraded') outliers.recordSuccess(exchange.backend!);
      },
      opened(exchange, delta) {
        metrics.webSocketsOpen.inc({ route: exchange.routeName, backend: exchange.backendName }, delta);
      },
      finished(exchange, status) {
        recordOutcome(exchange, status, false, counters, accessLog);
      },
    }),
  );

  const host = options.host ?? '0.0.0.0';
  const port = await listen(server, { port: options.port ?? 8080, host, portVariable: 'GATEWAY_PORT' });

  let admin: Server | null = null;
  let adminUrl: string | null = null;
  if (options.adminPort !== null) {
    const ops = {
      plan: () => plan.snapshot,
      store,
      reload: () => plan.reload('admin API change'),
      traffic,
      metrics,
    };
    const hosts = new AdminHostPolicy(options.adminHosts ?? []);
    const app = createAdminApp({
      registry: metrics.registry,
      hosts,
      token: adminToken,
      notReady: () => (draining ? 'shutting down' : server.listening ? null : 'the public port is not listening'),
      ops,
      logger,
      shadow: { findings: shadowFindings, table: () => plan.table },
      rollout,
    });
    admin = createServer(app);
    try {
      const adminPort = await listen(admin, { port: options.adminPort ?? 9901, host: adminHost, portVariable: 'GATEWAY_ADMIN_PORT' });
      hosts.listeningOn(adminHost, adminPort);
      adminUrl = urlOf(adminHost, adminPort);
    } catch (error) {
      server.close();
      throw error;
    }
  }

  const watcher =
    options.watch === false
      ? null
      : store.watch(
          () => void plan.reload('file change', true),
          (error) => logger.error({ err: error }, 'watching the routes file failed: changes now need SIGHUP'),
        );

  const url = urlOf(host, port);
  logger.info({ url, adminUrl, routes: options.routesFile }, `gateway listening on ${url}`);

  let closing: Promise<void> | null = null;
  async function shutdown(): Promise<void> {
    draining = true;
    watcher?.stop();
    rollout?.close();
    const delayMs = options.drainDelayMs ?? 0;
    if (delayMs > 0) {
      logger.info({ delayMs }, 'gateway shutting down: /readyz answers 503, still accepting while load balancers catch up');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    logger.info({ inFlight }, 'gateway shutting down: no new connections, finishing in-flight requests');
    // An open WebSocket would hold the listener open for ever: its clients reconnect elsewhere.
    webSockets.closeAll();
    await drain(server, options.shutdownTimeoutMs ?? 10_000, logger);
    await shadow.close();
    await tracing.shutdown(); // the last requests' spans are exported before the process ends
    if (admin) await closeNow(admin);
    wheel.stop();
    await pools.destroyAll();
    logger.info('gateway stopped');
    accessLog?.close();
    logger.flush();
  }

  return {
    url,
    port,
    adminUrl,
    metrics,
    logger,
    shadowFindings,
    rollout,
    table: () => plan.table,
    reload: () => plan.reload('reload request'),
    close: () => (closing ??= shutdown()),
  };
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

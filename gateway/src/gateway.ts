import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { ConfigError } from '@mythoughts/runtime/errors';
import { urlOf } from '@mythoughts/runtime/http/listen';
import type { Tracing } from '@mythoughts/runtime/tracing/setup';
import { createTokenVerifier } from '@mythoughts/runtime/tokens';
import { describeProblems } from './config/compileRouteTable.ts';
import { formatProblem } from './config/problems.ts';
import type { RouteTable } from './config/routeTable.ts';
import { urlOverrideOf } from './config/validateBackends.ts';
import { startControlPlane, type ControlPlane, type ControlPlaneSettings, type FleetDeps } from './controlPlane.ts';
import { DataPlane } from './dataPlane.ts';
import { connectEtcd } from './etcd/etcdConnection.ts';
import type { EtcdSettings } from './etcd/etcdSettings.ts';
import { CohortCookies } from './decide/cohortCookie.ts';
import { OverrideGate } from './decide/override.ts';
import { MIN_SECRET_LENGTH } from './decide/overrideToken.ts';
import { CachedTokenVerifier } from './decide/tokenCache.ts';
import { fleetSettingsFromEnv, type FleetSettings } from './fleet/fleetSettings.ts';
import type { GatewayMetrics } from './observe/metrics.ts';
import { Observability } from './observe/observability.ts';
import { reportRecentClients } from './plan/estimate.ts';
import { PlanChangeCounter } from './plan/planChanges.ts';
import { LivePlan, type ReloadResult } from './plan/livePlan.ts';
import { openPlanStore } from './plan/openPlanStore.ts';
import { DEFAULT_PLAN_CACHE, PlanCache } from './plan/planCache.ts';
import type { PlanSnapshot, PlanStore } from './plan/planStore.ts';
import type { RolloutControl } from './rollout/rolloutControl.ts';
import type { RolloutSetup } from './rollout/rolloutSetup.ts';
import { MismatchStore } from './shadow/mismatchStore.ts';
import { NoiseModel } from './shadow/noiseModel.ts';
import type { ShadowFindings } from './shadow/shadowMirror.ts';

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
  /** The plan in etcd (GATEWAY_PLAN_STORE) instead of routesFile. Default: null, the file. */
  planStore?: EtcdSettings | null;
  /** With planStore: the local copy of the last good plan, served when etcd is away at start (GATEWAY_PLAN_CACHE). Default data/plan-cache.yaml under the working directory. */
  planCacheFile?: string;
  /** Tracing to export to. Default: from the OTEL_* variables of process.env (off when they are unset). */
  tracing?: Tracing;
  /** On the etcd store: how this replica shows itself to the fleet. Default: id `<hostname>-<pid>`, lease TTL 5 s, published every second. */
  fleet?: FleetSettings;
  /**
   * On the etcd store, a cluster worker: where the plan it serves is reported instead of a
   * fleet registration of its own (its primary registers the whole gateway once). Default: it registers itself.
   */
  fleetReport?: FleetDeps['report'];
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
  readonly rollout: RolloutControl | null;
  /** The plan running now. */
  table(): RouteTable;
  /** Re-reads routes.yaml now (what SIGHUP does). */
  reload(): Promise<ReloadResult>;
  /** Stops accepting, lets in-flight requests finish (bounded), then releases everything. */
  close(): Promise<void>;
}

/**
 * Starts a gateway: loads the plan (an invalid file is a ConfigError listing every problem),
 * opens the public and admin ports, and watches the plan store. Signals are the caller's
 * business (see cli/serve.ts), so tests can run several gateways in one process. The
 * composition root: settings → observability → plan → data plane → control plane → listen,
 * and the closers in the reverse order.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const secrets = checkSecrets(options);
  const observability = new Observability(options);
  const { logger, metrics } = observability;
  const etcd = options.planStore ? connectEtcd(options.planStore) : null;
  const store = openPlanStore({ file: options.routesFile, auditFile: options.auditLogFile, urlOverride: urlOverrideOf(options.backendUrls) }, etcd);
  const cache = store.remote ? new PlanCache(options.planCacheFile ?? DEFAULT_PLAN_CACHE) : null;
  let control: ControlPlane | null = null;
  let running: DataPlane | null = null;
  const plan: LivePlan = await loadPlan(store, cache, observability, {
    applied(snapshot) {
      running?.planApplied(snapshot.table);
      control?.planChanged();
      control?.planServed(snapshot.version);
    },
    rejected() {
      const refused = plan.rejected;
      if (refused) control?.planRejected(refused.version, refused.message);
    },
  }).catch((error: unknown) => {
    etcd?.close();
    throw error;
  });

  const tokens = options.jwtPublicKeyPem ? new CachedTokenVerifier(createTokenVerifier(options.jwtPublicKeyPem)) : null;
  if (tokens === null)
    logger.warn('no JWT public key (JWT_PUBLIC_KEY_FILE unset): the jwt:username cohort key is never used; clients are recognised by cookies only');
  const proof = { tokens, cookies: new CohortCookies(secrets.cohort) };
  const shadowFindings: ShadowFindings = { store: new MismatchStore(), noise: new NoiseModel() };
  const dataPlane = new DataPlane({
    plan: () => plan.table,
    observability,
    proof,
    overrides: new OverrideGate(secrets.override, tokens),
    shadowFindings,
    trustForwarded: options.trustForwarded ?? false,
  });
  running = dataPlane;

  const server = dataPlane.server;
  try {
    control = await startControlPlane(controlPlaneSettings(options), {
      store,
      logger,
      rolloutRegistry: metrics.registry,
      metrics: metrics.registry,
      gates: { read: async () => new Map([[String(process.pid), await metrics.registry.getMetricsAsJSON()]]), name: "this process's metrics" },
      api: { ops: { plan: () => plan.snapshot, store, reload: () => plan.reload('admin API change'), traffic: dataPlane.traffic, metrics }, shadowFindings },
      notReady: () => (dataPlane.draining ? 'shutting down' : server.listening ? null : 'the public port is not listening'),
      onPlanChange: options.watch === false ? null : () => void plan.reload('file change', true),
      fleet: etcd
        ? {
            etcd,
            settings: options.fleet ?? fleetSettingsFromEnv({}),
            numbers: {
              registry: metrics.registry,
              window: dataPlane.traffic.window,
              recentClients: () => reportRecentClients(plan.snapshot.table, dataPlane.traffic.clients),
              shadowFindings,
            },
            report: options.fleetReport,
          }
        : null,
    });
    store.onStatus((status) => control?.storeUp(status.up));
  } catch (error) {
    await dataPlane.abort();
    etcd?.close();
    throw error;
  }
  const controlPlane = control;
  const host = options.host ?? '0.0.0.0';
  let port: number;
  try {
    port = await dataPlane.listen(options.port ?? 8080, host);
  } catch (error) {
    await controlPlane.close();
    await dataPlane.abort();
    etcd?.close();
    throw error;
  }
  const url = urlOf(host, port);
  await controlPlane.joinFleet(url, { served: plan.snapshot.version, rejected: plan.rejected, storeUp: store.status().up });
  logger.info({ url, adminUrl: controlPlane.adminUrl, plan: store.location }, `gateway listening on ${url}`);

  async function shutdown(): Promise<void> {
    dataPlane.startDraining();
    controlPlane.drain();
    const delayMs = options.drainDelayMs ?? 0;
    if (delayMs > 0) {
      logger.info({ delayMs }, 'gateway shutting down: /readyz answers 503, still accepting while load balancers catch up');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    await dataPlane.close(options.shutdownTimeoutMs ?? 10_000, logger);
    await observability.flushTraces();
    await controlPlane.close();
    etcd?.close();
    await dataPlane.release();
    logger.info('gateway stopped');
    observability.close();
  }

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    adminUrl: controlPlane.adminUrl,
    metrics,
    logger,
    shadowFindings,
    rollout: controlPlane.rollout,
    table: () => plan.table,
    reload: () => plan.reload('reload request'),
    close: () => (closing ??= shutdown()),
  };
}

/** The control plane's part of the gateway's options, with their defaults (admin port 9901, the rollout on). */
export function controlPlaneSettings(options: GatewayOptions): ControlPlaneSettings {
  const adminPort = options.adminPort === null ? null : (options.adminPort ?? 9901);
  return { ...options, adminPort, adminPortVariable: 'GATEWAY_ADMIN_PORT', rollout: options.rollout ?? {} };
}

/** The cohort and override secrets, checked before anything starts. */
function checkSecrets(options: GatewayOptions): { cohort: string; override: string | null } {
  if (options.cohortSecret !== undefined && options.cohortSecret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`GATEWAY_COHORT_SECRET is ${options.cohortSecret.length} characters; use at least ${MIN_SECRET_LENGTH} (e.g. openssl rand -hex 32)`);
  }
  const override = options.overrideSecret || null;
  if (override !== null && override.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`GATEWAY_OVERRIDE_SECRET is ${override.length} characters; use at least ${MIN_SECRET_LENGTH} (e.g. openssl rand -hex 32)`);
  }
  // Without a configured secret (in-process use, tests) the cookies hold for this process only.
  return { cohort: options.cohortSecret ?? randomBytes(32).toString('hex'), override };
}

/**
 * The running plan, loaded once (from the store, or its local copy when a remote store is away at
 * start); every applied or rejected change is logged, counted and told to the rollout, and the
 * store's health is published on /metrics.
 */
async function loadPlan(
  store: PlanStore,
  cache: PlanCache | null,
  { logger, metrics }: Observability,
  told: { applied(plan: PlanSnapshot): void; rejected(): void },
): Promise<LivePlan> {
  const planChanges = new PlanChangeCounter(store, metrics.planChanges);
  let seen = store.status();
  store.onStatus((status) => {
    metrics.planStoreUp.set(status.up ? 1 : 0);
    metrics.planStoreWatchRestarts.inc(status.watchRestarts - seen.watchRestarts);
    if (status.watchRestarts > seen.watchRestarts)
      logger.info({ store: store.location, why: status.lastWatchRestart }, 'plan store watch started again: plan re-read');
    if (status.up !== seen.up && status.up) logger.info({ store: store.location }, 'plan store reachable again: re-reading the plan');
    if (status.up !== seen.up && !status.up)
      logger.warn({ store: store.location, reason: status.reason }, 'plan store unreachable: serving the last good plan; plan writes answer 503');
    seen = status;
  });
  const loaded = await LivePlan.load(
    store,
    {
      applied(plan, trigger) {
        metrics.showPlan(plan.table);
        metrics.showPlanVersion(plan.version);
        planChanges.showPlan(plan.table);
        told.applied(plan);
        if (trigger !== 'start' && trigger !== 'cache') {
          metrics.reloads.inc({ result: 'success' });
          planChanges
            .planRunning(plan.version)
            .catch((error: Error) => logger.warn({ err: error }, 'reading the audit log for the migration annotations failed'));
        }
        const message = trigger === 'start' || trigger === 'cache' ? 'routes loaded' : 'routes reloaded: new plan running';
        logger.info({ plan: store.location, version: plan.version, trigger, routes: plan.table.summary() }, message);
      },
      rejected(problems, trigger) {
        metrics.reloads.inc({ result: 'failure' });
        metrics.lastReloadSuccessful.set(0);
        logger.error({ plan: store.location, trigger, problems: problems.map(formatProblem) }, 'plan rejected: the running plan stays in force');
        told.rejected();
      },
      startedFromCache(file, version, why) {
        logger.warn({ cache: file, version, why }, `plan store unreachable at start: serving the cached plan ${file} (version ${version.slice(0, 12)})`);
      },
      cacheNotWritten(file, error) {
        logger.warn(
          { cache: file, err: error },
          'the local copy of the plan could not be written: a restart while the store is away would start from an older copy',
        );
      },
    },
    cache,
  );
  if (!(loaded instanceof LivePlan)) {
    const what = store.remote ? `no plan to start from: ${store.location} gave none` : `${store.location} is not a valid routes file`;
    throw new ConfigError(`${what}:\n${describeProblems(loaded)}`);
  }
  return loaded;
}

import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { RouteTable } from '../config/routeTable.ts';
import { RequestCounters, ScrapedHistogram } from './requestCounters.ts';

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The migration's metrics (names and labels as in shared/docs/architecture.md), on a
 * registry of their own so several gateways can live in one process (tests). Label values
 * come only from configured names plus a few fixed words, never from request data.
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  /** The per-request counter and histogram, counted in typed arrays and handed to prom-client when scraped. */
  readonly counters = new RequestCounters(DURATION_BUCKETS);

  readonly requests: Counter<'route' | 'backend' | 'decision' | 'code'> = new Counter({
    name: 'gateway_requests_total',
    help: 'Requests answered, by route, backend that answered (none = the gateway itself), decision and status class',
    labelNames: ['route', 'backend', 'decision', 'code'] as const,
    registers: [this.registry],
    collect: () => this.counters.fillCounter(this.requests),
  });

  readonly duration = new ScrapedHistogram(
    {
      name: 'gateway_request_duration_seconds',
      help: 'Time from request received to response finished, by route and backend',
      labelNames: ['route', 'backend'] as const,
      buckets: DURATION_BUCKETS,
      registers: [this.registry],
    },
    () => this.counters,
  );

  readonly weights = new Gauge({
    name: 'gateway_route_weight_ratio',
    help: 'Configured share of a route going to a backend (0..1), from the running routes.yaml',
    labelNames: ['route', 'backend'] as const,
    registers: [this.registry],
    // Every worker of a cluster runs the same plan: its share, not the sum over workers.
    aggregator: 'max',
  });

  readonly upstreamErrors = new Counter({
    name: 'gateway_upstream_errors_total',
    help: 'Failed attempts to a backend: refused (no connection), reset, timeout, 5xx (answered 500-599)',
    labelNames: ['backend', 'reason'] as const,
    registers: [this.registry],
  });

  readonly backendAttempts = new Counter({
    name: 'gateway_backend_attempts_total',
    help: 'Forwarding attempts by route, backend tried and result: ok, 5xx, refused, reset, timeout, ejected (not tried: outlier detection had taken the backend out, the fallback served); failures the fallback hid from the client count too',
    labelNames: ['route', 'backend', 'result'] as const,
    registers: [this.registry],
  });
  private readonly attemptChildren = new Map<string, Counter.Internal>();

  readonly shadowComparisons = new Counter({
    name: 'gateway_shadow_comparisons_total',
    help: 'Shadow traffic by route and result: match, mismatch (differences beyond ignore rules and noise), error (an answer missing), skipped (over max_in_flight or body cap)',
    labelNames: ['route', 'result'] as const,
    registers: [this.registry],
  });

  readonly shadowNoiseSamples = new Counter({
    name: 'gateway_shadow_noise_samples_total',
    help: 'Shadowed requests also sent twice to the primary to learn noise, by route and result: stable (same answer twice) or noisy',
    labelNames: ['route', 'result'] as const,
    registers: [this.registry],
  });

  readonly reloads = new Counter({
    name: 'gateway_config_reloads_total',
    help: 'routes.yaml reloads by result: success (new plan running) or failure (rejected, old plan kept)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly lastReloadSuccess = new Gauge({
    name: 'gateway_config_last_reload_success_timestamp_seconds',
    help: 'Unix time at which the running plan was loaded',
    registers: [this.registry],
    aggregator: 'max',
  });

  readonly lastReloadSuccessful = new Gauge({
    name: 'gateway_config_last_reload_successful',
    help: 'Whether the last attempt to load routes.yaml succeeded (1) or was rejected, the old plan kept (0)',
    registers: [this.registry],
    // One worker that refused the file makes the cluster's answer 0.
    aggregator: 'min',
  });

  readonly planChanges = new Counter({
    name: 'gateway_plan_changes_total',
    help: 'Audited changes of routes.yaml (shift, panic, step, rollback) this gateway picked up, by action and route',
    labelNames: ['action', 'route'] as const,
    registers: [this.registry],
    // Every worker picks up the same change: count it once.
    aggregator: 'max',
  });

  readonly planApplied = new Gauge({
    name: 'gateway_plan_applied_timestamp_seconds',
    help: 'Unix time at which the plan this process serves was first applied (a reload of the same text keeps it), labelled with its version (sha256 of the plan text, first 12 hex digits)',
    labelNames: ['version'] as const,
    registers: [this.registry],
    aggregator: 'max',
  });

  readonly planStoreUp = new Gauge({
    name: 'gateway_plan_store_up',
    help: 'Whether the plan store answers (1) or not (0: the last good plan keeps being served, plan writes answer 503); always 1 for a routes file',
    registers: [this.registry],
    aggregator: 'min',
  });

  readonly planStoreWatchRestarts = new Counter({
    name: 'gateway_plan_store_watch_restarts_total',
    help: 'Times the watch of the plan store was lost (a reconnect, a watch error, a compaction) and started again, each followed by a re-read of the plan',
    registers: [this.registry],
  });

  readonly ejections = new Counter({
    name: 'gateway_backend_ejections_total',
    help: 'Times a backend was taken out of splits after consecutive failures (outlier detection)',
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });

  /** What ejectedSince reports at each scrape (showEjections): a cool-down ends without any event to hook. */
  private ejectionsInForce: () => ReadonlyMap<string, number> = () => new Map();

  readonly ejectedSince = new Gauge({
    name: 'gateway_backend_ejected_since_seconds',
    help: 'While outlier detection has a backend out of splits: the unix time its ejection began (no series once it is back); a rollout holds a step rather than count an ejection older than the step against it',
    labelNames: ['backend'] as const,
    registers: [this.registry],
    // Across workers: the oldest ejection, which is what a rollout must not blame on its step.
    aggregator: 'min',
    collect: () => {
      this.ejectedSince.reset();
      for (const [backend, since] of this.ejectionsInForce()) this.ejectedSince.set({ backend }, since / 1000);
    },
  });

  readonly webSocketUpgrades = new Counter({
    name: 'gateway_websocket_upgrades_total',
    help: 'WebSocket upgrade requests by route, backend chosen and result: upgraded (101 from the back end), refused (the back end answered without upgrading), failed (no connection or reset before the upgrade)',
    labelNames: ['route', 'backend', 'result'] as const,
    registers: [this.registry],
  });

  readonly webSocketsOpen = new Gauge({
    name: 'gateway_websocket_connections',
    help: 'WebSocket connections open now through the gateway, by route and backend',
    labelNames: ['route', 'backend'] as const,
    registers: [this.registry],
  });

  /** The version shown by showPlanVersion, and since when (unix ms). */
  private served: { readonly version: string; readonly since: number } | null = null;
  private readonly now: () => number;

  /** `now`: the clock of the plan's applied time, the same as the outlier detector's ejections are read on. */
  constructor(options: { defaultMetrics: boolean; now?: () => number }) {
    this.now = options.now ?? Date.now;
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    // Present from the start, so a dashboard shows 0 rather than "no data".
    this.reloads.inc({ result: 'success' }, 0);
    this.reloads.inc({ result: 'failure' }, 0);
    this.planStoreUp.set(1);
  }

  /** One attempt on a backend (from the forwarder's events; the child is cached, this is the hot path). */
  countAttempt(route: string, backend: string, result: string): void {
    const key = `${route}\u0000${backend}\u0000${result}`;
    let child = this.attemptChildren.get(key);
    if (child === undefined) {
      child = this.backendAttempts.labels(route, backend, result);
      this.attemptChildren.set(key, child);
    }
    child.inc();
  }

  /**
   * The version of the plan now served, since now. The same version applied again (a reload)
   * keeps its first time: a rollout leaves an ejection older than the plan out of its step.
   */
  showPlanVersion(version: string): void {
    if (this.served?.version === version) return;
    this.served = { version, since: this.now() };
    this.planApplied.reset();
    this.planApplied.set({ version: version.slice(0, 12) }, this.served.since / 1000);
  }

  /** The ejections in force (backend → unix ms it began), asked at every scrape. */
  showEjections(ejections: () => ReadonlyMap<string, number>): void {
    this.ejectionsInForce = ejections;
  }

  /** Publishes the configured shares of a newly running plan (old routes disappear). */
  showPlan(table: RouteTable): void {
    this.weights.reset();
    for (const route of table.routes) {
      for (const share of route.shares) this.weights.set({ route: route.name, backend: share.backend.name }, share.ratio);
      // A shadowed route shows 0 per result from the start rather than "no data".
      if (route.shadow !== null) for (const result of ['match', 'mismatch', 'error', 'skipped']) this.shadowComparisons.inc({ route: route.name, result }, 0);
    }
    this.lastReloadSuccess.set(Date.now() / 1000);
    this.lastReloadSuccessful.set(1);
  }
}

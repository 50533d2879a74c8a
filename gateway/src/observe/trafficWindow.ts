/**
 * Recent traffic per route and backend over a sliding window (default 5 minutes, in 10 s
 * slots): requests, 5xx answers and a latency histogram, enough for the realised share, the
 * request and error rates and a p95 — what an operator watches while shifting. Prometheus
 * keeps the long history; this answers "what is happening right now" without one.
 */

/** Latency bucket upper bounds in ms: ×1.25 steps from 0.5 ms to ~60 s (p95 within 25 %). */
const LATENCY_BOUNDS_MS: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let bound = 0.5; bound < 60_000; bound *= 1.25) bounds.push(bound);
  return bounds;
})();

class Counts {
  requests = 0;
  errors = 0;
  readonly latency = new Uint32Array(LATENCY_BOUNDS_MS.length + 1);

  static of(published: BackendCounts): Counts {
    const counts = new Counts();
    counts.requests = published.requests;
    counts.errors = published.errors;
    published.latency.forEach((n, i) => {
      if (i < counts.latency.length) counts.latency[i] = n;
    });
    return counts;
  }

  add(other: Counts): void {
    this.requests += other.requests;
    this.errors += other.errors;
    for (let i = 0; i < this.latency.length; i++) this.latency[i]! += other.latency[i]!;
  }
}

interface Slot {
  start: number;
  /** route → backend → counts */
  readonly routes: Map<string, Map<string, Counts>>;
}

export interface BackendTraffic {
  readonly backend: string;
  readonly requests: number;
  readonly requestsPerSecond: number;
  /** Of the route's forwarded requests, the share this backend answered, 0..1 (null: none forwarded). */
  readonly share: number | null;
  /** 5xx answers / requests, 0..1 (null: no requests). */
  readonly errorRate: number | null;
  readonly p95Ms: number | null;
}

export interface RouteTraffic {
  readonly route: string;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly backends: readonly BackendTraffic[];
}

export interface TrafficSnapshot {
  /** Seconds the numbers cover: the window, or less just after a start (the longest of a fleet's replicas). */
  readonly seconds: number;
  readonly routes: readonly RouteTraffic[];
}

export class TrafficWindow {
  private readonly slots: Slot[];
  private readonly startedAt: number;

  constructor(
    readonly windowMs = 300_000,
    private readonly slotMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.slots = Array.from({ length: Math.ceil(windowMs / slotMs) + 1 }, () => ({ start: -1, routes: new Map() }));
    this.startedAt = now();
  }

  /** One answered request. `backend` is `none` when the gateway answered itself (deny, no route). */
  record(route: string, backend: string, status: number, durationMs: number): void {
    const start = Math.floor(this.now() / this.slotMs) * this.slotMs;
    const slot = this.slots[(start / this.slotMs) % this.slots.length]!;
    if (slot.start !== start) {
      slot.start = start;
      slot.routes.clear();
    }
    let backends = slot.routes.get(route);
    if (!backends) slot.routes.set(route, (backends = new Map()));
    let counts = backends.get(backend);
    if (!counts) backends.set(backend, (counts = new Counts()));
    counts.requests += 1;
    if (status >= 500) counts.errors += 1;
    counts.latency[latencyBucket(durationMs)]! += 1;
  }

  /** The window's raw counts: what a replica publishes so the fleet's numbers are summed, never averaged. */
  counts(): WindowCounts {
    const now = this.now();
    const oldest = now - this.windowMs;
    const merged = new Map<string, Map<string, Counts>>();
    for (const slot of this.slots) {
      if (slot.start < 0 || slot.start + this.slotMs <= oldest) continue;
      for (const [route, backends] of slot.routes) {
        let into = merged.get(route);
        if (!into) merged.set(route, (into = new Map()));
        for (const [backend, counts] of backends) {
          let total = into.get(backend);
          if (!total) into.set(backend, (total = new Counts()));
          total.add(counts);
        }
      }
    }
    const routes: Record<string, Record<string, BackendCounts>> = {};
    for (const [route, backends] of merged) {
      routes[route] = Object.fromEntries([...backends].map(([backend, c]) => [backend, { requests: c.requests, errors: c.errors, latency: [...c.latency] }]));
    }
    return { seconds: Math.max(1, Math.min(this.windowMs, now - this.startedAt) / 1000), routes };
  }

  snapshot(): TrafficSnapshot {
    return summariseTraffic([this.counts()]);
  }
}

/** One backend's answers on one route over a window, as counts that add up across replicas. */
export interface BackendCounts {
  readonly requests: number;
  readonly errors: number;
  /** Answers per latency bucket (LATENCY_BOUNDS_MS, then one above the last bound). */
  readonly latency: readonly number[];
}

export interface WindowCounts {
  readonly seconds: number;
  /** route → backend → counts */
  readonly routes: Readonly<Record<string, Readonly<Record<string, BackendCounts>>>>;
}

/**
 * The numbers of one or several windows (a fleet's replicas): counts and latency buckets
 * summed, then shares, error rates and p95 computed from the sums; a rate is the sum of each
 * window's own rate, since a replica that started a minute ago covers less time than the others.
 */
export function summariseTraffic(windows: readonly WindowCounts[]): TrafficSnapshot {
  const merged = new Map<string, Map<string, { counts: Counts; perSecond: number }>>();
  for (const window of windows) {
    for (const [route, backends] of Object.entries(window.routes)) {
      let into = merged.get(route);
      if (!into) merged.set(route, (into = new Map()));
      for (const [backend, counts] of Object.entries(backends)) {
        let total = into.get(backend);
        if (!total) into.set(backend, (total = { counts: new Counts(), perSecond: 0 }));
        total.counts.add(Counts.of(counts));
        total.perSecond += counts.requests / window.seconds;
      }
    }
  }
  const routes = [...merged].map(([route, backends]) => {
    const all = [...backends];
    const forwarded = all.filter(([name]) => name !== 'none').reduce((sum, [, b]) => sum + b.counts.requests, 0);
    return {
      route,
      requests: all.reduce((sum, [, b]) => sum + b.counts.requests, 0),
      requestsPerSecond: all.reduce((sum, [, b]) => sum + b.perSecond, 0),
      backends: all.map(([backend, { counts: c, perSecond }]) => ({
        backend,
        requests: c.requests,
        requestsPerSecond: perSecond,
        share: backend === 'none' || forwarded === 0 ? null : c.requests / forwarded,
        errorRate: c.requests === 0 ? null : c.errors / c.requests,
        p95Ms: percentile(c.latency, 0.95),
      })),
    };
  });
  return { seconds: Math.max(1, ...windows.map((w) => w.seconds)), routes };
}

function latencyBucket(ms: number): number {
  let low = 0;
  let high = LATENCY_BOUNDS_MS.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (ms <= LATENCY_BOUNDS_MS[mid]!) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** The upper bound of the bucket holding the q-quantile (as Prometheus's histogram_quantile, without interpolation). */
function percentile(histogram: Uint32Array, q: number): number | null {
  const total = histogram.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i]!;
    if (seen >= rank) return i < LATENCY_BOUNDS_MS.length ? Math.round(LATENCY_BOUNDS_MS[i]! * 100) / 100 : 60_000;
  }
  return null;
}

import type { MetricValue } from 'prom-client';
import type { RouteTable } from '../config/routeTable.ts';
import type { BackendTraffic, TrafficSnapshot } from '../observe/trafficWindow.ts';
import { routeView, type RouteView } from './planView.ts';

export interface ShadowCounts {
  readonly match: number;
  readonly mismatch: number;
  readonly error: number;
  readonly skipped: number;
  /** match / (match + mismatch), null before any comparison. */
  readonly matchRate: number | null;
}

export interface RouteStats extends RouteView {
  readonly requests: number;
  readonly requestsPerSecond: number;
  /** One entry per backend of the split (configured, realised) plus any other that answered (fallbacks). */
  readonly backends: readonly (BackendTraffic & { readonly configured: number | null })[];
  /** Since the gateway started, from gateway_shadow_comparisons_total. */
  readonly shadow: ShadowCounts;
}

export interface LiveStats {
  readonly generatedAt: string;
  readonly windowSeconds: number;
  /** Share of forwarded requests answered by a new backend, 0..1 (null: nothing forwarded) — gateway:migrated_ratio. */
  readonly migratedShare: number | null;
  readonly requestsPerSecond: number;
  readonly routes: readonly RouteStats[];
  /** On the etcd store: how many replicas' numbers these are (every live one that published); absent: this process alone. */
  readonly replicas?: number;
}

/** The numbers behind the stats: this process's, or the fleet's summed from what every replica publishes. */
export interface TrafficNumbers {
  readonly traffic: TrafficSnapshot;
  /** gateway_shadow_comparisons_total's samples (per route and result; summed when several replicas gave them). */
  readonly shadowComparisons: readonly MetricValue<string>[];
  readonly replicas?: number;
}

const NO_TRAFFIC = { requests: 0, requestsPerSecond: 0, share: null, errorRate: null, p95Ms: null } as const;

/** GET /api/stats: the running plan beside what the last minutes of traffic did. */
export function liveStats(table: RouteTable, numbers: TrafficNumbers): LiveStats {
  const traffic = numbers.traffic;
  const shadow = shadowByRoute(numbers.shadowComparisons);
  let forwarded = 0;
  let migrated = 0;
  let requestsPerSecond = 0;
  const routes = table.routes.map((route) => {
    const view = routeView(route);
    const seen = traffic.routes.find((r) => r.route === route.name);
    const configured = view.split ?? {};
    const names = [...Object.keys(configured), ...(seen?.backends.map((b) => b.backend) ?? [])].filter((name, i, all) => all.indexOf(name) === i);
    const backends = names.map((name) => ({
      backend: name,
      configured: configured[name] ?? null,
      ...(seen?.backends.find((b) => b.backend === name) ?? NO_TRAFFIC),
    }));
    for (const b of backends) {
      if (b.backend === 'none') continue;
      forwarded += b.requests;
      if (b.backend !== table.legacy.name) migrated += b.requests;
    }
    requestsPerSecond += seen?.requestsPerSecond ?? 0;
    return {
      ...view,
      requests: seen?.requests ?? 0,
      requestsPerSecond: seen?.requestsPerSecond ?? 0,
      backends,
      shadow: shadow.get(route.name) ?? countsOf({}),
    };
  });
  return {
    generatedAt: new Date().toISOString(),
    windowSeconds: traffic.seconds,
    migratedShare: forwarded === 0 ? null : migrated / forwarded,
    requestsPerSecond,
    routes,
    ...(numbers.replicas === undefined ? {} : { replicas: numbers.replicas }),
  };
}

function shadowByRoute(samples: readonly MetricValue<string>[]): Map<string, ShadowCounts> {
  const raw = new Map<string, Record<string, number>>();
  for (const { labels, value } of samples) {
    const route = String(labels.route);
    const counts = raw.get(route) ?? {};
    const result = String(labels.result);
    raw.set(route, { ...counts, [result]: (counts[result] ?? 0) + value });
  }
  return new Map([...raw].map(([route, counts]) => [route, countsOf(counts)]));
}

function countsOf(counts: Record<string, number>): ShadowCounts {
  const match = counts.match ?? 0;
  const mismatch = counts.mismatch ?? 0;
  return { match, mismatch, error: counts.error ?? 0, skipped: counts.skipped ?? 0, matchRate: match + mismatch === 0 ? null : match / (match + mismatch) };
}

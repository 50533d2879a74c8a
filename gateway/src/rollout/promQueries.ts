import type { GateQuery } from './gateReader.ts';

/**
 * The PromQL of each gate, on the gateway's own metrics summed over every replica. `range`
 * is the interval (`60s`); deploy/prometheus/rules.yml records the same expressions over
 * `1m` per route and backend (gateway_rollout:…), for the dashboard and alerts.
 */
export function gateQueries(query: GateQuery, range: string): Readonly<Record<GateSeries, string>> {
  // Route names are plain words (config/routesConfig.ts NAME): safe inside a regex matcher as they are.
  const routes = `route=~"${query.routes.join('|')}"`;
  const attempts = `gateway_backend_attempts_total{${routes}, backend="${query.backend}"`;
  const buckets = (backend: string) => `sum by (le) (increase(gateway_request_duration_seconds_bucket{${routes}, backend="${backend}"}[${range}]))`;
  return {
    attempts: `sum(increase(${attempts}}[${range}]))`,
    failures: `sum(increase(${attempts}, result!="ok"}[${range}]))`,
    p95Seconds: `histogram_quantile(0.95, ${buckets(query.backend)})`,
    legacyRequests: `sum(increase(gateway_request_duration_seconds_count{${routes}, backend="${query.legacy}"}[${range}]))`,
    legacyP95Seconds: `histogram_quantile(0.95, ${buckets(query.legacy)})`,
    comparisons: `sum(increase(gateway_shadow_comparisons_total{${routes}, result=~"match|mismatch"}[${range}]))`,
    mismatches: `sum(increase(gateway_shadow_comparisons_total{${routes}, result="mismatch"}[${range}]))`,
    // Per scraped process, both unix times by its own clock; only the difference is compared across processes.
    ejectedAfterPlanSeconds: `min(min by (instance, job) (min_over_time(gateway_backend_ejected_since_seconds{backend="${query.backend}"}[${range}])) - max by (instance, job) (max_over_time(gateway_plan_applied_timestamp_seconds[${range}])))`,
  };
}

export type GateSeries =
  'attempts' | 'failures' | 'p95Seconds' | 'legacyRequests' | 'legacyP95Seconds' | 'comparisons' | 'mismatches' | 'ejectedAfterPlanSeconds';

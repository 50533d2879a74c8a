import type { Backend, Route } from '../config/routeTable.ts';
import { bucketOf } from '../core/bucket.ts';

/** The `decision` label: why a request went where it went. */
export type Decision = 'weight' | 'override' | 'fallback' | 'deny';

export interface Choice {
  readonly backend: Backend;
  readonly decision: Decision;
}

/**
 * Picks the backend of a forwarding route by the client's cohort (a tester's override is
 * decided before, in override.ts). The client key is asked for only when the split actually
 * has a boundary (a 0 % or 100 % split needs no key, no token check, no cookie).
 */
export function chooseBackend(route: Route, clientKey: () => string, isEjected: (backend: Backend) => boolean): Choice {
  const backend = route.needsCohort ? backendForBucket(route, bucketOf(route.seed, clientKey())) : (route.slices[0]?.backend ?? route.legacy);
  if (!backend.legacy && isEjected(backend)) return { backend: route.fallback ?? route.legacy, decision: 'fallback' };
  return { backend, decision: 'weight' };
}

/** New backends hold the low buckets in declaration order; legacy holds the rest. */
export function backendForBucket(route: Route, bucket: number): Backend {
  for (const slice of route.slices) {
    if (bucket < slice.upTo) return slice.backend;
  }
  return route.legacy;
}

import type { Backend, Route } from '../config/routeTable.ts';
import { bucketOf } from '../core/bucket.ts';
import { SAFE_METHODS } from '../core/httpMethods.ts';

/** The `decision` label: why a request went where it went. */
export type Decision = 'weight' | 'override' | 'fallback' | 'deny';

export interface Choice {
  readonly backend: Backend;
  readonly decision: Decision;
  /** The backend the client was dealt to when outlier detection had taken it out (`backend` serves instead), else null. */
  readonly ejected: Backend | null;
}

/**
 * Picks the backend of a forwarding route by the client's cohort key (a tester's override is
 * decided before, in override.ts). `clientKey` is read only when the split has a boundary:
 * the caller passes null for a route whose `needsCohort` is false (0 % or 100 %).
 */
export function chooseBackend(route: Route, clientKey: string | null, isEjected: (backend: Backend) => boolean): Choice {
  const backend =
    route.needsCohort && clientKey !== null ? backendForBucket(route, bucketOf(route.seed, clientKey)) : (route.slices[0]?.backend ?? route.legacy);
  if (!backend.legacy && isEjected(backend)) return { backend: fallbackFor(route, backend, null)!, decision: 'fallback', ejected: backend };
  return { backend, decision: 'weight', ejected: null };
}

/** New backends hold the low buckets in declaration order; legacy holds the rest. */
export function backendForBucket(route: Route, bucket: number): Backend {
  for (const slice of route.slices) {
    if (bucket < slice.upTo) return slice.backend;
  }
  return route.legacy;
}

/** What the forwarder knows about a failed attempt when it asks where to go next. */
export interface FailedAttempt {
  /** Attempts made so far, this one included. */
  readonly attempts: number;
  readonly method: string;
  /** The request may have reached the back end (its connection was established). */
  readonly reachedBackend: boolean;
  /** The body can be sent a second time: absent, or buffered in full. */
  readonly bodyReplayable: boolean;
}

/**
 * The one answer to "where does this request go when `failed` cannot serve it?":
 * - before any attempt (`attempt` null: the backend is ejected), to the route's fallback,
 *   else legacy — an ejected backend's share must go somewhere;
 * - after a failed attempt, a replay on the route's fallback, at most once, and only when
 *   sending the request twice is harmless: a safe method, or a body kept here that never
 *   reached the back end. Null: no replay, the client gets the failure.
 * The caller guarantees nothing has been sent to the client yet.
 */
export function fallbackFor(route: Route, failed: Backend, attempt: FailedAttempt | null): Backend | null {
  if (attempt === null) return route.fallback ?? route.legacy;
  const fallback = route.fallback;
  if (fallback === null || fallback === failed || attempt.attempts > 1 || !attempt.bodyReplayable) return null;
  return SAFE_METHODS.has(attempt.method) || !attempt.reachedBackend ? fallback : null;
}

/** A method whose effect may not be repeated blindly: its failure after reaching the back end leaves the outcome unknown. */
export function isReplaySafe(method: string): boolean {
  return SAFE_METHODS.has(method);
}

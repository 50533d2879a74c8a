import type { IgnoreRule } from '../core/jsonPath.ts';
import type { Pattern } from '../match/pattern.ts';

/**
 * What the user wrote in routes.yaml, validated, with the line of each piece so later checks
 * (reachability) can still point at the file. The runtime form is RouteTable.
 */
export interface RoutesConfig {
  readonly file: string;
  readonly backends: readonly BackendConfig[];
  readonly cohort: CohortConfig;
  readonly outlier: OutlierConfig;
  readonly replay: ReplayConfig;
  readonly timeouts: TimeoutsConfig;
  readonly routes: readonly RouteConfig[];
  /** Paths no request may carry to a back end (`protect:`). */
  readonly protect: readonly ProtectedPattern[];
  /** Users whose valid JWT may pick a backend with X-Gateway-Backend. */
  readonly testers: readonly string[];
}

export interface BackendConfig {
  readonly name: string;
  /** `http://host:port`, no path. */
  readonly origin: string;
  readonly legacy: boolean;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly line: number;
}

/** The keys the gateway can check: a verified JWT's username, or its own signed gw_cohort cookie. */
export type CohortKeySpec = { readonly kind: 'jwt'; readonly text: 'jwt:username' } | { readonly kind: 'cookie'; readonly text: 'cookie:gw_cohort' };

export interface CohortConfig {
  /** First present wins. */
  readonly keys: readonly CohortKeySpec[];
  readonly salt: string;
}

export interface OutlierConfig {
  /** Consecutive failures that eject a (non-legacy) backend; 0 turns ejection off. */
  readonly consecutiveFailures: number;
  readonly cooldownMs: number;
}

export interface ReplayConfig {
  /** Bodies up to this size are buffered so the request can be replayed on the fallback. */
  readonly maxBodyBytes: number;
}

export interface TimeoutsConfig {
  /** A request body must arrive whole within this long, or the client gets 408. */
  readonly clientBodyMs: number;
}

export interface SplitShare {
  readonly backend: string;
  /** Percent, 0..100, at most two decimals (the bucket resolution is 0.01 %). */
  readonly percent: number;
}

export interface RouteConfig {
  readonly name: string;
  /** Position in the file's `routes:` list. */
  readonly index: number;
  readonly line: number;
  readonly patterns: readonly (Pattern & { readonly line: number })[];
  readonly methods: ReadonlySet<string> | null;
  readonly headers: readonly (readonly [string, string])[] | null;
  readonly group: string;
  readonly action: { readonly kind: 'deny'; readonly status: number } | { readonly kind: 'split'; readonly shares: readonly SplitShare[] };
  readonly fallback: string | null;
  /** Copies of the route's requests to compare against, or null. */
  readonly shadow: ShadowConfig | null;
  /** Steps the route's group advances by itself while its gates hold, or null. */
  readonly rollout: RolloutConfig | null;
}

/** `shadow:` of a route, validated: what to mirror where, and how to compare the answers. */
export interface ShadowConfig {
  /** The backend that receives the copies (the candidate). */
  readonly to: string;
  /** Share of eligible requests mirrored, 0..100. */
  readonly percent: number;
  readonly methods: ReadonlySet<string>;
  /** Body locations never compared (JSONPath subset, see core/jsonPath.ts). */
  readonly ignore: readonly IgnoreRule[];
  /** Response headers compared (lower case); all others (Date, X-Request-ID…) are not. */
  readonly headers: readonly string[];
  readonly maxInFlight: number;
  readonly timeoutMs: number;
  /** Cap on a mirrored request body and on each response body kept for comparison. */
  readonly maxBodyBytes: number;
  /** Share of mirrored safe requests also sent a second time to the primary, to learn noise. */
  readonly noisePercent: number;
  readonly line: number;
}

/** A pattern of `protect:`; line null for the defaults, which the file does not write. */
export type ProtectedPattern = Pattern & { readonly line: number | null };

/** The backend names declared, for the checks of what routes name. */
export interface BackendNames {
  readonly all: readonly string[];
  readonly legacy: string | undefined;
}

export const DEFAULTS = {
  connectTimeoutMs: 2_000,
  responseTimeoutMs: 30_000,
  consecutiveFailures: 5,
  cooldownSeconds: 30,
  maxBodyBytes: 64 * 1024,
  clientBodyMs: 30_000,
  salt: 'mythoughts',
  cohortKeys: ['jwt:username', 'cookie:gw_cohort'],
  protect: ['/admin/**', '/metrics'],
} as const;

/** One entry of `steps:`: the new backend's percent, or `pause` (wait for `gateway rollout promote`). */
export type RolloutStep = number | 'pause';

/** `rollout:` of a route, validated: the steps, what is judged after each interval, and who is told. */
export interface RolloutConfig {
  /** The one new backend of the split that the rollout moves. */
  readonly backend: string;
  readonly steps: readonly RolloutStep[];
  readonly intervalSeconds: number;
  /** Fewer attempts on the new backend in an interval: the check is inconclusive. */
  readonly minRequests: number;
  readonly maxErrorPercent: number;
  readonly maxP95Ms: number;
  /** New p95 / legacy p95 on the same routes in the same interval. */
  readonly maxP95Ratio: number;
  /** Null when the route has no shadow towards the backend: no parity gate. */
  readonly maxMismatchPercent: number | null;
  readonly minComparisons: number;
  /** Failed checks in a row before `onFailure`. */
  readonly failureLimit: number;
  readonly onFailure: 'rollback' | 'pause';
  readonly notify: readonly string[];
  readonly line: number;
}

export const ROLLOUT_DEFAULTS = {
  intervalSeconds: 60,
  minRequests: 100,
  maxErrorPercent: 1,
  maxP95Ms: 1000,
  maxP95Ratio: 1.5,
  maxMismatchPercent: 1,
  minComparisons: 50,
  failureLimit: 2,
  onFailure: 'rollback',
} as const;

export const SHADOW_DEFAULTS = {
  percent: 100,
  methods: ['GET', 'HEAD'],
  headers: ['content-type', 'location', 'allow'],
  maxInFlight: 16,
  timeoutMs: 5_000,
  maxBodyBytes: 64 * 1024,
  noisePercent: 10,
} as const;

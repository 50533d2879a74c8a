import type { IncomingHttpHeaders } from 'node:http';
import { BUCKETS, groupSeed } from '../core/bucket.ts';
import { Matcher } from '../match/matcher.ts';
import type { Pattern } from '../match/pattern.ts';
import type { CohortConfig, OutlierConfig, ReplayConfig, RolloutConfig, RouteConfig, RoutesConfig, ShadowConfig, TimeoutsConfig } from './routesConfig.ts';

/** A back end as the proxy uses it. */
export interface Backend {
  readonly name: string;
  readonly origin: string;
  readonly legacy: boolean;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
}

/** A route's shadow traffic as the gateway runs it: the candidate resolved to its backend. */
export type ShadowPlan = Omit<ShadowConfig, 'to' | 'line'> & { readonly to: Backend };

/** Buckets `[previous slice's upTo, upTo)` go to `backend`. */
export interface Slice {
  readonly backend: Backend;
  readonly upTo: number;
}

export interface Route {
  readonly name: string;
  readonly line: number;
  readonly patterns: readonly Pattern[];
  readonly methods: ReadonlySet<string> | null;
  readonly headers: readonly (readonly [string, string])[] | null;
  readonly group: string;
  /** Status to answer with, or null for a forwarding route. */
  readonly deny: number | null;
  /** New backends in declaration order, low buckets first; legacy takes every bucket above. */
  readonly slices: readonly Slice[];
  readonly legacy: Backend;
  readonly fallback: Backend | null;
  /** False when the split has no boundary inside 0..10000, so no client key is needed. */
  readonly needsCohort: boolean;
  /** Hash state of (salt, group): only the client key is hashed per request. */
  readonly seed: number;
  /** Backends an override header may pick for this route. */
  readonly overridable: ReadonlyMap<string, Backend>;
  /** The configured share per backend (0..1), legacy included, for metrics and summaries. */
  readonly shares: readonly { readonly backend: Backend; readonly ratio: number }[];
  /** Copies of this route's requests sent to a candidate and compared, or null (the usual case). */
  readonly shadow: ShadowPlan | null;
  /** The progressive rollout of the route's group (rollout/ runs it), or null. */
  readonly rollout: RolloutConfig | null;
}

/**
 * The compiled, immutable migration plan the proxy runs. A new file produces a new table
 * that is swapped in whole; a request keeps the table it started with.
 */
export class RouteTable {
  readonly backends: readonly Backend[];
  readonly legacy: Backend;
  readonly routes: readonly Route[];
  private readonly matcher: Matcher<Route>;

  readonly file: string;
  readonly cohort: CohortConfig;
  readonly outlier: OutlierConfig;
  readonly replay: ReplayConfig;
  readonly timeouts: TimeoutsConfig;
  /** Users whose valid JWT may pick a backend with X-Gateway-Backend. */
  readonly testers: ReadonlySet<string>;
  /** Paths no request reaches a back end under (validated: a deny route takes all of them). */
  readonly protect: readonly Pattern[];

  constructor(config: RoutesConfig) {
    this.file = config.file;
    this.cohort = Object.freeze({ ...config.cohort, keys: Object.freeze([...config.cohort.keys]) });
    this.outlier = Object.freeze({ ...config.outlier });
    this.replay = Object.freeze({ ...config.replay });
    this.timeouts = Object.freeze({ ...config.timeouts });
    this.testers = new Set(config.testers);
    this.protect = Object.freeze(config.protect.map((p) => Object.freeze({ text: p.text, segments: p.segments })));
    this.backends = config.backends.map((b) =>
      Object.freeze({ name: b.name, origin: b.origin, legacy: b.legacy, connectTimeoutMs: b.connectTimeoutMs, responseTimeoutMs: b.responseTimeoutMs }),
    );
    const byName = new Map(this.backends.map((b) => [b.name, b]));
    this.legacy = this.backends.find((b) => b.legacy)!;
    this.routes = config.routes.map((route) => deepFreeze(compileRoute(route, config, byName, this.legacy)));
    this.matcher = new Matcher(this.routes, (route) => route.patterns);
    Object.freeze(this.backends);
    Object.freeze(this.routes);
  }

  /** The first route matching a normalised path (any letter case), method and headers. */
  match(path: string, method: string, headers: IncomingHttpHeaders): Route | null {
    return this.matcher.match(path, method, headers);
  }

  backend(name: string): Backend | undefined {
    return this.backends.find((b) => b.name === name);
  }

  /** One line per route, as `gateway validate` prints it. */
  summary(): string[] {
    return this.routes.map((route) => {
      const match = describeMatch(route);
      if (route.deny !== null) return `${route.name}: ${match} → deny ${route.deny}`;
      const shares = route.shares.map((s) => `${s.backend.name} ${Math.round(s.ratio * 10_000) / 100}%`).join(', ');
      const extras = [
        route.group !== route.name ? `group ${route.group}` : '',
        route.fallback ? `fallback ${route.fallback.name}` : '',
        route.shadow ? `shadow ${route.shadow.percent}% to ${route.shadow.to.name}` : '',
        route.rollout ? `rollout ${route.rollout.steps.join(' → ')}` : '',
      ].filter(Boolean);
      return `${route.name}: ${match} → ${shares}${extras.length ? ` (${extras.join(', ')})` : ''}`;
    });
  }
}

/**
 * What a route takes, as one line: `/api/** [GET,HEAD] {x-client: mobile}`. The header
 * conditions are part of it because two routes may differ by nothing else.
 */
export function describeMatch(route: Pick<Route, 'patterns' | 'methods' | 'headers'>): string {
  const methods = route.methods ? ` [${[...route.methods].join(',')}]` : '';
  const headers = route.headers ? ` {${route.headers.map(([name, value]) => `${name}: ${value}`).join(', ')}}` : '';
  return route.patterns.map((p) => p.text).join(' ') + methods + headers;
}

function compileRoute(route: RouteConfig, config: RoutesConfig, byName: Map<string, Backend>, legacy: Backend): Route {
  const common = {
    name: route.name,
    line: route.line,
    patterns: route.patterns.map((p) => ({ text: p.text, segments: p.segments })),
    methods: route.methods,
    headers: route.headers,
    group: route.group,
    legacy,
    seed: groupSeed(config.cohort.salt, route.group),
    rollout: route.rollout,
  };
  if (route.action.kind === 'deny') {
    return { ...common, deny: route.action.status, slices: [], fallback: null, needsCohort: false, overridable: new Map(), shares: [], shadow: null };
  }
  const percentOf = new Map(route.action.shares.map((s) => [s.backend, s.percent]));
  const slices: Slice[] = [];
  let upTo = 0;
  // Declaration order of backends, not of the split, so reordering a split moves no client.
  for (const backend of byName.values()) {
    const buckets = Math.round((percentOf.get(backend.name) ?? 0) * (BUCKETS / 100));
    if (backend.legacy || buckets === 0) continue;
    upTo += buckets;
    slices.push({ backend, upTo });
  }
  const listed = [...byName.values()].filter((b) => !b.legacy && percentOf.has(b.name));
  const shares = [
    ...listed.map((backend) => ({ backend, ratio: Math.round((percentOf.get(backend.name) ?? 0) * (BUCKETS / 100)) / BUCKETS })),
    { backend: legacy, ratio: (BUCKETS - upTo) / BUCKETS },
  ];
  const fallback = route.fallback ? byName.get(route.fallback)! : null;
  const shadow = route.shadow === null ? null : { ...route.shadow, to: byName.get(route.shadow.to)! };
  // A tester may pick any backend the route names, also one at 0 %: that is when testing it matters most.
  const overridable = new Map([...listed, legacy, ...(fallback ? [fallback] : []), ...(shadow ? [shadow.to] : [])].map((b) => [b.name, b]));
  const needsCohort = !(slices.length === 0 || (slices.length === 1 && upTo === BUCKETS));
  return { ...common, deny: null, slices, fallback, needsCohort, overridable, shares, shadow };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value) && !(value instanceof Map) && !(value instanceof Set)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

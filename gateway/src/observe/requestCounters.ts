import type { Counter, Histogram } from 'prom-client';

interface RouteBackendChildren {
  readonly duration: { observe(value: number): void };
  /** `decision` + ' ' + `code` → the counter child. */
  readonly requests: Map<string, { inc(): void }>;
}

/**
 * The per-request metric updates, with prom-client's labelled children kept per label set.
 * `.labels(...)` builds a label object, validates it and binds a new closure on every call;
 * the label values here come from a small closed set (configured route and backend names,
 * four decisions, five status classes), so each child is made once and reused.
 */
export class RequestCounters {
  private readonly byRoute = new Map<string, Map<string, RouteBackendChildren>>();

  constructor(
    private readonly requests: Counter<'route' | 'backend' | 'decision' | 'code'>,
    private readonly duration: Histogram<'route' | 'backend'>,
  ) {}

  record(route: string, backend: string, decision: string, code: string, seconds: number): void {
    const children = this.childrenOf(route, backend);
    const key = decision + ' ' + code;
    let counter = children.requests.get(key);
    if (counter === undefined) children.requests.set(key, (counter = this.requests.labels(route, backend, decision, code)));
    counter.inc();
    children.duration.observe(seconds);
  }

  private childrenOf(route: string, backend: string): RouteBackendChildren {
    let backends = this.byRoute.get(route);
    if (backends === undefined) this.byRoute.set(route, (backends = new Map()));
    let children = backends.get(backend);
    if (children === undefined) backends.set(backend, (children = { duration: this.duration.labels(route, backend), requests: new Map() }));
    return children;
  }
}

import type { OutlierConfig } from '../config/routesConfig.ts';
import type { Backend, RouteTable } from '../config/routeTable.ts';

/** One ejection: when it began and when its cool-down ends (unix ms). */
interface Ejection {
  readonly since: number;
  readonly until: number;
}

/**
 * Consecutive-failure ejection: a new backend that fails `consecutiveFailures` requests in a
 * row is taken out of every split for `cooldownMs`, then gets traffic again (and needs the
 * same number of failures to be ejected again). Legacy backends are never ejected: there is
 * nowhere else to send their share. State is per backend name, so it survives reloads.
 */
export class OutlierDetector {
  private readonly failures = new Map<string, number>();
  private readonly ejected = new Map<string, Ejection>();
  /** `route\u0000backend` of every share above 0 in the plan applied last (planApplied). */
  private served: ReadonlySet<string> | null = null;

  constructor(
    private readonly onEject: (backend: Backend, cooldownMs: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  isEjected(backend: Backend): boolean {
    if (this.ejected.size === 0) return false;
    const ejection = this.ejected.get(backend.name);
    if (ejection === undefined) return false;
    if (ejection.until > this.now()) return true;
    this.ejected.delete(backend.name);
    return false;
  }

  recordSuccess(backend: Backend): void {
    if (this.failures.has(backend.name)) this.failures.delete(backend.name);
  }

  recordFailure(backend: Backend, policy: OutlierConfig): void {
    if (backend.legacy || policy.consecutiveFailures === 0) return;
    const count = (this.failures.get(backend.name) ?? 0) + 1;
    if (count < policy.consecutiveFailures) {
      this.failures.set(backend.name, count);
      return;
    }
    this.failures.delete(backend.name);
    if (this.isEjected(backend)) return;
    const now = this.now();
    this.ejected.set(backend.name, { since: now, until: now + policy.cooldownMs });
    this.onEject(backend, policy.cooldownMs);
  }

  /** The backends out now, each with the unix ms its ejection began (what a rollout's gates must know). */
  ejectedSince(): ReadonlyMap<string, number> {
    const now = this.now();
    const out = new Map<string, number>();
    for (const [name, ejection] of this.ejected) if (ejection.until > now) out.set(name, ejection.since);
    return out;
  }

  /**
   * A new plan runs. A backend that a route gave no share and now gives one (a rollout
   * restarted after its rollback, a shift from 0 %) is re-admitted at once: whoever put it
   * back asks for it to be tried now, not after a cool-down earned before. Returns the
   * names re-admitted.
   */
  planApplied(table: RouteTable): string[] {
    const served = new Set(
      table.routes.flatMap((route) => route.shares.filter((share) => share.ratio > 0).map((share) => `${route.name}\u0000${share.backend.name}`)),
    );
    const before = this.served;
    this.served = served;
    if (before === null) return [];
    const returning = new Set([...served].filter((pair) => !before.has(pair)).map((pair) => pair.split('\u0000')[1]!));
    const readmitted = [...returning].filter((name) => this.ejected.delete(name));
    for (const name of readmitted) this.failures.delete(name);
    return readmitted;
  }
}

import type { OutlierConfig } from '../config/routesConfig.ts';
import type { Backend } from '../config/routeTable.ts';

/**
 * Consecutive-failure ejection: a new backend that fails `consecutiveFailures` requests in a
 * row is taken out of every split for `cooldownMs`, then gets traffic again (and needs the
 * same number of failures to be ejected again). Legacy backends are never ejected: there is
 * nowhere else to send their share. State is per backend name, so it survives reloads.
 */
export class OutlierDetector {
  private readonly failures = new Map<string, number>();
  private readonly ejectedUntil = new Map<string, number>();

  constructor(
    private readonly onEject: (backend: Backend, cooldownMs: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  isEjected(backend: Backend): boolean {
    if (this.ejectedUntil.size === 0) return false;
    const until = this.ejectedUntil.get(backend.name);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.ejectedUntil.delete(backend.name);
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
    this.ejectedUntil.set(backend.name, this.now() + policy.cooldownMs);
    this.onEject(backend, policy.cooldownMs);
  }
}

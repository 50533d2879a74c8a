import type { Difference } from './difference.ts';

/** Bound on the noisy places remembered per route (a body of random keys must not grow it forever). */
const MAX_KEYS_PER_ROUTE = 500;

/**
 * Noise, the Diffy way: some requests are sent twice to the primary, and whatever differs
 * between two answers of the same backend to the same request (a generated id, a clock) is
 * noise — a candidate differing there is not at fault. Places are remembered per route, with
 * list indices generalised (`$[*].timestamp`), for the life of the process.
 */
export class NoiseModel {
  private readonly noisy = new Map<string, Set<string>>();

  /** Records the differences between two primary answers; returns how many places were new. */
  learn(route: string, differences: readonly Difference[]): number {
    let keys = this.noisy.get(route);
    if (!keys) this.noisy.set(route, (keys = new Set()));
    let added = 0;
    for (const difference of differences) {
      if (keys.has(difference.key) || keys.size >= MAX_KEYS_PER_ROUTE) continue;
      keys.add(difference.key);
      added++;
    }
    return added;
  }

  isNoise(route: string, difference: Difference): boolean {
    return this.noisy.get(route)?.has(difference.key) ?? false;
  }

  /** Noisy places per route, for the admin API. */
  snapshot(): Record<string, string[]> {
    return Object.fromEntries([...this.noisy].map(([route, keys]) => [route, [...keys].sort()]));
  }
}

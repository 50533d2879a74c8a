import { bucketOf } from '../core/bucket.ts';

interface Seen {
  readonly bucket: number;
  seenAt: number;
}

/**
 * The cohort buckets of the distinct clients seen recently, per cohort hash seed (= salt +
 * group, what a route's split is dealt by). `shift --dry-run` replays them through the old
 * and the new split to say how many clients would change side. Only buckets leave this
 * class — never the keys, which are usernames and session cookies. Bounded: at most
 * `capPerGroup` clients per group, the least recently seen dropped first.
 */
export class RecentClients {
  private readonly bySeed = new Map<number, Map<string, Seen>>();

  constructor(
    readonly windowMs = 300_000,
    private readonly capPerGroup = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  record(seed: number, key: string): void {
    let clients = this.bySeed.get(seed);
    if (!clients) this.bySeed.set(seed, (clients = new Map()));
    // delete + set moves the key to the end: Map order is then least recently seen first.
    // A returning client (the usual case, on every request) keeps its entry: no hash, no allocation.
    const seen = clients.get(key);
    if (seen !== undefined) {
      clients.delete(key);
      seen.seenAt = this.now();
      clients.set(key, seen);
      return;
    }
    clients.set(key, { bucket: bucketOf(seed, key), seenAt: this.now() });
    if (clients.size > this.capPerGroup) clients.delete(clients.keys().next().value!);
  }

  /** Buckets of the clients seen within the window, one per client. */
  buckets(seed: number): number[] {
    const clients = this.bySeed.get(seed);
    if (!clients) return [];
    const oldest = this.now() - this.windowMs;
    const result: number[] = [];
    for (const [key, seen] of clients) {
      if (seen.seenAt >= oldest) result.push(seen.bucket);
      else clients.delete(key); // expired: oldest first, so this only trims the front
    }
    return result;
  }
}

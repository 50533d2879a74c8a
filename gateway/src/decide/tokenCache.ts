import type { TokenVerifier } from '@mythoughts/runtime/tokens';

interface Entry {
  readonly username: string | null;
  readonly untilMs: number;
}

/**
 * RS256 verification costs ~60 µs; a client sends the same token on every request, so the
 * result is kept in a small LRU keyed by the token. A valid result is kept until the token
 * expires (at most 10 minutes), an invalid one for a minute; the map's insertion order is
 * the recency order.
 */
export class CachedTokenVerifier {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly capacity = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  usernameOf(token: string): string | null {
    const now = this.now();
    const hit = this.entries.get(token);
    if (hit !== undefined && hit.untilMs > now) {
      this.entries.delete(token);
      this.entries.set(token, hit);
      return hit.username;
    }
    const username = this.verifier.verify(token);
    const untilMs = username === null ? now + 60_000 : Math.min(expiryMs(token), now + 600_000);
    this.entries.delete(token);
    this.entries.set(token, { username, untilMs });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return username;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The `exp` of a token already verified (so well-formed), in milliseconds. */
function expiryMs(token: string): number {
  const payload = token.split('.')[1] ?? '';
  const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
  return typeof exp === 'number' ? exp * 1000 : 0;
}

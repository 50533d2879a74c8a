/**
 * The results of a costly check (an HMAC, a signature) kept per exact input string, so a
 * client sending the same cookie or token on every request costs one map lookup instead of
 * the check. Bounded without any per-hit work: two generations of at most `capacity`
 * entries each; when the young one is full it becomes the old one and the previous old one
 * is dropped, and a hit in the old generation moves to the young. A client seen within the
 * last `capacity` distinct inputs is always found.
 */
export class RecentResults<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();

  constructor(private readonly capacity = 10_000) {}

  /** The result for `input`, computed by `check` only when not kept. */
  get(input: string, check: (input: string) => V): V {
    const kept = this.young.get(input);
    if (kept !== undefined || this.young.has(input)) return kept!;
    const older = this.old.get(input);
    const value = older !== undefined || this.old.has(input) ? older! : check(input);
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(input, value);
    return value;
  }
}

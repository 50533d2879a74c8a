/** One cumulative bucket: observations ≤ `le` (Infinity for +Inf). */
export interface Bucket {
  readonly le: number;
  readonly count: number;
}

/**
 * PromQL's histogram_quantile on cumulative buckets: the bucket holding the rank, linear
 * interpolation inside it (from 0 for the first one); a rank in +Inf gives the highest finite
 * bound. Null without observations.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number | null {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total <= 0 || sorted.at(-1)!.le !== Infinity) return null;
  const rank = q * total;
  let lowerBound = 0;
  let below = 0;
  for (const [i, bucket] of sorted.entries()) {
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return i > 0 ? sorted[i - 1]!.le : null;
      const inBucket = bucket.count - below;
      return inBucket <= 0 ? bucket.le : lowerBound + (bucket.le - lowerBound) * ((rank - below) / inBucket);
    }
    lowerBound = bucket.le;
    below = bucket.count;
  }
  return null;
}

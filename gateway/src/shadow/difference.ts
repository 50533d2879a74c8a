/**
 * One way two answers differ. `where` is what a person reads (`status`, `header location`,
 * `$[0].id`, `body`); `key` is the same place with list indices generalised (`$[*].id`),
 * which is how noise learnt on one answer applies to the next.
 */
export interface Difference {
  readonly where: string;
  readonly key: string;
  /** `changed`: both have it, with different values; `missing`/`extra`: only the primary / only the candidate has it. */
  readonly kind: 'changed' | 'missing' | 'extra';
  readonly primary?: unknown;
  readonly candidate?: unknown;
}

/** Differences split into the real ones and those at places known as noise (shown, not counted). */
export function splitNoise(
  differences: readonly Difference[],
  isNoise: (difference: Difference) => boolean,
): { readonly real: Difference[]; readonly noisy: Difference[] } {
  const real: Difference[] = [];
  const noisy: Difference[] = [];
  for (const difference of differences) (isNoise(difference) ? noisy : real).push(difference);
  return { real, noisy };
}

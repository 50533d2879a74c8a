/**
 * A validation problem in routes.yaml, located precisely enough for a person to fix it:
 * the file, the 1-based line, the field path (e.g. `routes[2].split.users`) and a message
 * that says what is allowed.
 */
export interface ConfigProblem {
  readonly file: string;
  readonly line: number;
  /** 1-based column, where it is known precisely (YAML syntax errors). */
  readonly column?: number;
  readonly field: string;
  readonly message: string;
}

/** `routes.yaml:12: routes[2].split.users: unknown backend 'userz'; allowed: legacy, users` (`:12:5:` with a column). */
export function formatProblem(problem: ConfigProblem): string {
  const field = problem.field ? ` ${problem.field}:` : '';
  const column = problem.column === undefined ? '' : `:${problem.column}`;
  return `${problem.file}:${problem.line}${column}:${field} ${problem.message}`;
}

/** The closest allowed word, for "did you mean" hints on typos (edit distance ≤ 2). */
export function closest(word: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length]!;
}

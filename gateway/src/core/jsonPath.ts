/**
 * Where a difference sits in a JSON body, and the `ignore` rules that name such places.
 *
 * A location is the list of keys and indices from the root: `["0", "timestamp"]` is written
 * `$[0].timestamp`. Ignore rules use a small JSONPath subset, enough to name noisy fields:
 *
 *   $.meta.generated   one field          $[*].timestamp   that field of every list item
 *   $[0]               one item           $..timestamp     that field at any depth
 *   $.*  / $['a b']    any key / any key  timestamp        short for $..timestamp
 *
 * A rule also covers everything beneath what it names (`$.meta` ignores `$.meta.x`).
 */
export type Segment = string | number;

interface Step {
  /** `..`: the step may match at any depth below the previous one. */
  readonly descend: boolean;
  /** A key, an index, or `*` for any key or index. */
  readonly match: Segment | typeof ANY;
}

const ANY = Symbol('any');

export class IgnoreRule {
  private constructor(
    readonly text: string,
    private readonly steps: readonly Step[],
  ) {}

  /** The rule, or an error message saying what is allowed. */
  static parse(text: string): IgnoreRule | { readonly error: string } {
    const source = text.trim();
    if (/^[A-Za-z_][\w-]*$/.test(source)) return new IgnoreRule(source, [{ descend: true, match: source }]);
    if (!source.startsWith('$')) return { error: `'${text}' is not a path: start with $ (e.g. $[*].timestamp) or give a bare field name (e.g. timestamp)` };
    const steps: Step[] = [];
    const syntax = /\.\.([A-Za-z_][\w-]*|\*)|\.([A-Za-z_][\w-]*|\*)|\[(\*|\d+|'[^']*'|"[^"]*")\]/y;
    let at = 1;
    while (at < source.length) {
      syntax.lastIndex = at;
      const found = syntax.exec(source);
      if (!found) return { error: `'${text}' is not understood at '${source.slice(at)}'; use .field, ..field, [*], [0], ['odd key']` };
      if (found[1] !== undefined) steps.push({ descend: true, match: found[1] === '*' ? ANY : found[1] });
      else if (found[2] !== undefined) steps.push({ descend: false, match: found[2] === '*' ? ANY : found[2] });
      else steps.push({ descend: false, match: bracket(found[3]!) });
      at = syntax.lastIndex;
    }
    return new IgnoreRule(source, steps);
  }

  /** True when the location is the place this rule names or lies beneath it. */
  covers(location: readonly Segment[]): boolean {
    return this.coversFrom(0, location, 0);
  }

  private coversFrom(step: number, location: readonly Segment[], at: number): boolean {
    if (step === this.steps.length) return true;
    const { descend, match } = this.steps[step]!;
    if (!descend) return at < location.length && fits(match, location[at]!) && this.coversFrom(step + 1, location, at + 1);
    for (let i = at; i < location.length; i++) {
      if (fits(match, location[i]!) && this.coversFrom(step + 1, location, i + 1)) return true;
    }
    return false;
  }
}

function bracket(inner: string): Segment | typeof ANY {
  if (inner === '*') return ANY;
  if (/^\d+$/.test(inner)) return Number(inner);
  return inner.slice(1, -1);
}

function fits(match: Segment | typeof ANY, segment: Segment): boolean {
  return match === ANY || match === segment;
}

/** `$[0].timestamp`, `$['odd key']`: how a location is shown in diffs and logs. */
export function formatLocation(location: readonly Segment[], anyIndex = false): string {
  let text = '$';
  for (const segment of location) {
    if (typeof segment === 'number') text += anyIndex ? '[*]' : `[${segment}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(segment)) text += `.${segment}`;
    else text += `['${segment.replaceAll("'", "\\'")}']`;
  }
  return text;
}

/**
 * The location with every index replaced by `*` (`$[3].timestamp` → `$[*].timestamp`): a
 * field found noisy in item 3 of one answer is noisy in every item of the next.
 */
export function generalLocation(location: readonly Segment[]): string {
  return formatLocation(location, true);
}

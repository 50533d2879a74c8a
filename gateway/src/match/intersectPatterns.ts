import type { Pattern, Segment } from './pattern.ts';

/**
 * The paths two patterns both match, as one pattern (segment patterns intersect into one),
 * or null when no path matches both: `/**` ∩ `/admin/**` = `/admin/**`,
 * `/*\/users/**` ∩ `/admin/**` = `/admin/users/**`, `/api/**` ∩ `/admin/**` = null.
 */
export function intersectPatterns(a: Pattern, b: Pattern): Pattern | null {
  const segments: Segment[] = [];
  for (let i = 0; ; i++) {
    const x = a.segments[i];
    const y = b.segments[i];
    // `**` takes any rest (also none), so what the other pattern still asks for is the rest.
    if (x?.kind === 'rest') return patternOf([...segments, ...b.segments.slice(i)]);
    if (y?.kind === 'rest') return patternOf([...segments, ...a.segments.slice(i)]);
    if (x === undefined || y === undefined) return x === y ? patternOf(segments) : null;
    if (x.kind === 'literal' && y.kind === 'literal' && x.text !== y.text) return null;
    segments.push(x.kind === 'literal' ? x : y);
  }
}

function patternOf(segments: Segment[]): Pattern {
  const text = `/${segments.map((s) => (s.kind === 'literal' ? s.text : s.kind === 'star' ? '*' : '**')).join('/')}`;
  return { text, segments };
}

/** A path the pattern matches, for messages: `/admin/**` → `/admin/x`. */
export function examplePath(pattern: Pattern): string {
  return `/${pattern.segments.map((s) => (s.kind === 'literal' ? s.text : 'x')).join('/')}`;
}

import { describe, expect, it } from 'vitest';
import { CoveringIndex } from '../src/config/coveringIndex.ts';
import { parsePattern, type Pattern } from '../src/match/pattern.ts';

/** The definition, pair by pair: every path that `inner` matches is also matched by `outer`. */
function covers(outer: Pattern, inner: Pattern): boolean {
  const a = outer.segments;
  const b = inner.segments;
  for (let i = 0; ; i++) {
    const sa = a[i];
    const sb = b[i];
    if (sa === undefined) return sb === undefined;
    if (sa.kind === 'rest') return true;
    if (sb === undefined || sb.kind === 'rest') return false;
    if (sa.kind === 'star') continue;
    if (sb.kind === 'star' || sa.text !== sb.text) return false;
  }
}

function pattern(text: string): Pattern {
  const parsed = parsePattern(text);
  if ('problem' in parsed) throw new Error(parsed.problem);
  return parsed;
}

/** A small deterministic generator (no Math.random: a failure must reproduce). */
function randomPatterns(count: number, seed: number): Pattern[] {
  let state = seed;
  const next = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % n;
  };
  const words = ['api', 'thoughts', 'users', 'me', 'login'];
  return Array.from({ length: count }, () => {
    const depth = next(4);
    const parts = Array.from({ length: depth }, () => (next(4) === 0 ? '*' : words[next(words.length)]!));
    if (next(3) === 0) parts.push('**');
    return pattern(`/${parts.join('/')}`);
  });
}

describe('CoveringIndex', () => {
  it('finds exactly the earlier patterns that cover a later one, as the pairwise definition does', () => {
    const patterns = randomPatterns(400, 7);
    const index = new CoveringIndex();
    patterns.forEach((inner, position) => {
      const expected = patterns.slice(0, position).flatMap((outer, at) => (covers(outer, inner) ? [at] : []));
      expect(index.coverersOf(inner), inner.text).toEqual(expected);
      index.add(inner, position);
    });
  });

  it('knows the cases a route file meets', () => {
    const index = new CoveringIndex();
    index.add(pattern('/api/thoughts/**'), 0);
    index.add(pattern('/api/*/me'), 1);
    index.add(pattern('/**'), 2);
    expect(index.coverersOf(pattern('/api/thoughts'))).toEqual([0, 2]);
    expect(index.coverersOf(pattern('/api/users/me/'))).toEqual([1, 2]);
    expect(index.coverersOf(pattern('/api/*/**'))).toEqual([2]);
    expect(index.coverersOf(pattern('/'))).toEqual([2]);
  });
});

import type { Pattern } from '../match/pattern.ts';

class Node {
  readonly literals = new Map<string, Node>();
  star: Node | null = null;
  /** Positions of the patterns that end here with `**` (they cover any rest, even none). */
  readonly rest: number[] = [];
  /** Positions of the patterns that end exactly here. */
  readonly exact: number[] = [];
}

/**
 * The path patterns of earlier routes, as a segment trie, to find which of them cover a later
 * pattern without comparing every pair (10 000 routes took 11.5 s pairwise). Walking a
 * pattern visits only the branches that can cover it — its literal or `*` at each depth and
 * any `**` on the way — so the cost follows the pattern's length and the coverers found,
 * not the number of routes (gateway/test/coveringIndex.test.ts checks it against a pairwise
 * comparison).
 */
export class CoveringIndex {
  private readonly root = new Node();

  /** Adds the pattern of the route at `position` (positions only grow). */
  add(pattern: Pattern, position: number): void {
    let node = this.root;
    for (const segment of pattern.segments) {
      if (segment.kind === 'rest') {
        node.rest.push(position);
        return;
      }
      if (segment.kind === 'star') node = node.star ??= new Node();
      else {
        let next = node.literals.get(segment.text);
        if (next === undefined) node.literals.set(segment.text, (next = new Node()));
        node = next;
      }
    }
    node.exact.push(position);
  }

  /** Positions of the added patterns that match every path `inner` matches, in ascending order, without repeats. */
  coverersOf(inner: Pattern): number[] {
    const found: number[] = [];
    this.walk(this.root, inner, 0, found);
    return [...new Set(found)].sort((a, b) => a - b);
  }

  private walk(node: Node, inner: Pattern, depth: number, found: number[]): void {
    found.push(...node.rest);
    const segment = inner.segments[depth];
    if (segment === undefined) {
      found.push(...node.exact);
      return;
    }
    // `**` in the inner pattern is covered only by an outer `**` (taken above).
    if (segment.kind === 'rest') return;
    if (node.star !== null) this.walk(node.star, inner, depth + 1, found);
    if (segment.kind === 'literal') {
      const next = node.literals.get(segment.text);
      if (next !== undefined) this.walk(next, inner, depth + 1, found);
    }
  }
}

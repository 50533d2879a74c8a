import type { Pattern } from '../match/pattern.ts';
import { SegmentTrie, type SegmentNode } from '../match/segmentTrie.ts';

/**
 * The path patterns of earlier routes, as a segment trie, to find which of them cover a later
 * pattern without comparing every pair (10 000 routes took 11.5 s pairwise). Walking a
 * pattern visits only the branches that can cover it — its literal or `*` at each depth and
 * any `**` on the way — so the cost follows the pattern's length and the coverers found,
 * not the number of routes (gateway/test/coveringIndex.test.ts checks it against a pairwise
 * comparison).
 */
export class CoveringIndex {
  private readonly trie = new SegmentTrie();

  /** Adds the pattern of the route at `position` (positions only grow). */
  add(pattern: Pattern, position: number): void {
    this.trie.add(pattern, position);
  }

  /** Positions of the added patterns that match every path `inner` matches, in ascending order, without repeats. */
  coverersOf(inner: Pattern): number[] {
    const found: number[] = [];
    this.walk(this.trie.root, inner, 0, found);
    return [...new Set(found)].sort((a, b) => a - b);
  }

  private walk(node: SegmentNode, inner: Pattern, depth: number, found: number[]): void {
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

import type { Pattern } from './pattern.ts';

/** One path segment's node: its literal children, its `*` child, and the patterns ending here. */
export class SegmentNode {
  readonly literals = new Map<string, SegmentNode>();
  star: SegmentNode | null = null;
  /** Positions of the patterns that end exactly here, ascending. */
  readonly exact: number[] = [];
  /** Positions of the patterns that end with `**` here (they take any rest, even none), ascending. */
  readonly rest: number[] = [];
}

/**
 * Path patterns as a trie of their segments, each pattern known by a position (its route's
 * place in the file). A walk visits only the branches that can match — a literal child, the
 * `*` child and the `**` ends on the way — so its cost follows the path's length, not the
 * number of routes. The route matcher walks it with a request path, the reachability check
 * with another pattern.
 */
export class SegmentTrie {
  readonly root = new SegmentNode();

  /** Adds a pattern; positions are added in ascending order (a route's patterns share one). */
  add(pattern: Pattern, position: number): void {
    let node = this.root;
    for (const segment of pattern.segments) {
      if (segment.kind === 'rest') {
        pushOnce(node.rest, position);
        return;
      }
      if (segment.kind === 'star') {
        node = node.star ??= new SegmentNode();
      } else {
        let child = node.literals.get(segment.text);
        if (!child) node.literals.set(segment.text, (child = new SegmentNode()));
        node = child;
      }
    }
    pushOnce(node.exact, position);
  }
}

function pushOnce(list: number[], position: number): void {
  if (list[list.length - 1] !== position) list.push(position);
}

import type { IncomingHttpHeaders } from 'node:http';
import type { Pattern } from './pattern.ts';

/** What the matcher needs to know of a route besides its path patterns. */
export interface MatchConditions {
  /** Upper-case methods, or null for any method. */
  readonly methods: ReadonlySet<string> | null;
  /** Lower-case header name and exact value, all of which must be present; or null. */
  readonly headers: readonly (readonly [string, string])[] | null;
}

/**
 * A segment trie over all path patterns: a lookup walks the path's segments once, visiting
 * only the branches that can match (a literal child, the `*` child, and `**` ends on the
 * way), instead of testing every route. The first declared route wins, as in the file.
 */
class TrieNode {
  readonly literals = new Map<string, TrieNode>();
  star: TrieNode | null = null;
  /** Routes whose pattern ends exactly here, by declaration index (ascending). */
  readonly exact: number[] = [];
  /** Routes whose pattern ends with `**` here: they match any remainder, even none. */
  readonly rest: number[] = [];
}

export class Matcher<R extends MatchConditions> {
  private readonly root = new TrieNode();

  constructor(private readonly routes: readonly R[], patternsOf: (route: R) => readonly Pattern[]) {
    routes.forEach((route, index) => {
      for (const pattern of patternsOf(route)) this.insert(pattern, index);
    });
  }

  private insert(pattern: Pattern, index: number): void {
    let node = this.root;
    for (const segment of pattern.segments) {
      if (segment.kind === 'rest') {
        pushOnce(node.rest, index);
        return;
      }
      if (segment.kind === 'star') {
        node = node.star ??= new TrieNode();
      } else {
        let child = node.literals.get(segment.text);
        if (!child) node.literals.set(segment.text, (child = new TrieNode()));
        node = child;
      }
    }
    pushOnce(node.exact, index);
  }

  /** The first route (in file order) matching a normalised path, method and headers. */
  match(path: string, method: string, headers: IncomingHttpHeaders): R | null {
    const segments = path.toLowerCase().slice(1).split('/');
    if (segments[segments.length - 1] === '') segments.pop(); // trailing slash is insignificant
    const best = this.walk(this.root, segments, 0, method, headers, Number.MAX_SAFE_INTEGER);
    return best === Number.MAX_SAFE_INTEGER ? null : this.routes[best]!;
  }

  private walk(node: TrieNode, segments: string[], depth: number, method: string, headers: IncomingHttpHeaders, best: number): number {
    best = this.firstAccepting(node.rest, method, headers, best);
    if (depth === segments.length) return this.firstAccepting(node.exact, method, headers, best);
    const literal = node.literals.get(segments[depth]!);
    if (literal) best = this.walk(literal, segments, depth + 1, method, headers, best);
    if (node.star) best = this.walk(node.star, segments, depth + 1, method, headers, best);
    return best;
  }

  private firstAccepting(candidates: number[], method: string, headers: IncomingHttpHeaders, best: number): number {
    for (const index of candidates) {
      if (index >= best) return best; // sorted: nothing later can beat the current best
      if (accepts(this.routes[index]!, method, headers)) return index;
    }
    return best;
  }
}

function accepts(route: MatchConditions, method: string, headers: IncomingHttpHeaders): boolean {
  if (route.methods !== null && !route.methods.has(method)) return false;
  if (route.headers !== null) {
    for (const [name, value] of route.headers) {
      if (headers[name] !== value) return false;
    }
  }
  return true;
}

function pushOnce(list: number[], index: number): void {
  if (list[list.length - 1] !== index) list.push(index);
}

import type { IncomingHttpHeaders } from 'node:http';
import type { Pattern } from './pattern.ts';
import { SegmentTrie, type SegmentNode } from './segmentTrie.ts';

/** What the matcher needs to know of a route besides its path patterns. */
export interface MatchConditions {
  /** Upper-case methods, or null for any method. */
  readonly methods: ReadonlySet<string> | null;
  /** Lower-case header name and exact value, all of which must be present; or null. */
  readonly headers: readonly (readonly [string, string])[] | null;
}

/**
 * Finds a request's route with one walk of a segment trie over all path patterns, instead
 * of testing every route. The first declared route wins, as in the file.
 */
export class Matcher<R extends MatchConditions> {
  private readonly trie = new SegmentTrie();

  constructor(
    private readonly routes: readonly R[],
    patternsOf: (route: R) => readonly Pattern[],
  ) {
    routes.forEach((route, index) => {
      for (const pattern of patternsOf(route)) this.trie.add(pattern, index);
    });
  }

  /** The first route (in file order) matching a normalised path, method and headers. */
  match(path: string, method: string, headers: IncomingHttpHeaders): R | null {
    const segments = path.toLowerCase().slice(1).split('/');
    if (segments[segments.length - 1] === '') segments.pop(); // trailing slash is insignificant
    const best = this.walk(this.trie.root, segments, 0, method, headers, Number.MAX_SAFE_INTEGER);
    return best === Number.MAX_SAFE_INTEGER ? null : this.routes[best]!;
  }

  private walk(node: SegmentNode, segments: string[], depth: number, method: string, headers: IncomingHttpHeaders, best: number): number {
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

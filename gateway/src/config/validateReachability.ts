import { CoveringIndex } from './coveringIndex.ts';
import type { RouteConfig } from './routesConfig.ts';
import type { YamlReader } from './yamlReader.ts';

/**
 * Routes are tried in file order and the first match wins, so a route (or one of its path
 * patterns) placed after a broader one can never be used. That is always a mistake — most
 * often a deny rule such as `/admin/**` placed below the catch-all `/**` — so it is an error.
 */
export function validateReachability(reader: YamlReader, routes: readonly RouteConfig[]): void {
  const seen = new Map<string, RouteConfig>();
  const earlierPatterns = new CoveringIndex();
  routes.forEach((route, position) => {
    const index = route.index;
    const twin = seen.get(route.name);
    if (twin)
      reader.problems.push(
        problem(
          reader,
          route.line,
          index,
          route,
          'name',
          `route name '${route.name}' is already used on line ${twin.line}; names must be unique (they label metrics)`,
        ),
      );
    seen.set(route.name, route);
    for (const pattern of route.patterns) {
      // The first earlier route whose path covers this pattern and whose method and header
      // conditions are no narrower than this route's.
      const shadowAt = earlierPatterns.coverersOf(pattern).find((at) => conditionsCover(routes[at]!, route));
      if (shadowAt === undefined) continue;
      const shadow = routes[shadowAt]!;
      reader.problems.push({
        file: reader.file,
        line: pattern.line,
        field: `routes[${index}] (${route.name}).match.path`,
        message:
          `'${pattern.text}' can never match: route '${shadow.name}' (line ${shadow.line}) comes first and takes every such request; ` +
          `move '${route.name}' above '${shadow.name}' or narrow '${shadow.name}'`,
      });
    }
    for (const pattern of route.patterns) earlierPatterns.add(pattern, position);
  });
}

/** True when `earlier`'s methods and headers take every request `later`'s would (paths aside). */
function conditionsCover(earlier: RouteConfig, later: RouteConfig): boolean {
  if (earlier.methods !== null && (later.methods === null || [...later.methods].some((m) => !earlier.methods!.has(m)))) return false;
  if (earlier.headers !== null && !earlier.headers.every(([n, v]) => later.headers?.some(([n2, v2]) => n === n2 && v === v2))) return false;
  return true;
}

function problem(reader: YamlReader, line: number, index: number, route: RouteConfig, key: string, message: string) {
  return { file: reader.file, line, field: `routes[${index}] (${route.name}).${key}`, message };
}

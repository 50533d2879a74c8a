import { examplePath, intersectPatterns } from '../match/intersectPatterns.ts';
import { parsePattern, type Pattern } from '../match/pattern.ts';
import { CoveringIndex } from './coveringIndex.ts';
import { DEFAULTS, type ProtectedPattern, type RouteConfig } from './routesConfig.ts';
import type { YamlReader } from './yamlReader.ts';

/**
 * `protect: [/admin/**, /metrics]` — paths no request may ever carry to a back end (the
 * monolith's /admin has no authentication of its own). Absent: those two. `protect: []`
 * says on purpose that nothing is protected.
 */
export function validateProtect(reader: YamlReader, node: unknown): ProtectedPattern[] {
  if (node === undefined) return DEFAULTS.protect.map((text) => ({ ...(parsePattern(text) as Pattern), line: null }));
  // A list only, and never an empty `protect:`: leaving the paths out protects nothing, so that must be written as [].
  const list = reader.seq(node, 'protect', 'path patterns no request may carry to a back end, e.g. [/admin/**, /metrics], or [] for none');
  const written = list ? (reader.strings(list, 'protect', 'a path pattern like /admin/**') ?? []) : [];
  const patterns: ProtectedPattern[] = [];
  for (const { value, node: item } of written) {
    const pattern = parsePattern(value);
    if ('problem' in pattern) reader.report(item, 'protect', `${pattern.problem}; '*' matches one segment, '**' (last) any number`);
    else patterns.push({ ...pattern, line: reader.lineOf(item) });
  }
  return patterns;
}

/**
 * Rejects a plan in which a request under a protected path could reach a back end. Routes
 * are tried in order, so a request under `/admin/**` is safe only when an earlier deny route
 * takes all of it: a deny that has method or header conditions lets the other requests fall
 * through to the routes below, and a deny on `/admin/` alone covers nothing beneath it. Each
 * forwarding route that overlaps a protected path not yet covered is named at its line. (A
 * protected part covered only by several deny routes together is rejected too: write one
 * deny for the whole protected pattern.)
 */
export function validateProtection(reader: YamlReader, protect: readonly ProtectedPattern[], routes: readonly RouteConfig[]): void {
  for (const guarded of protect) {
    const denied = new CoveringIndex();
    routes.forEach((route, position) => {
      for (const pattern of route.patterns) {
        const overlap = intersectPatterns(guarded, pattern);
        if (overlap === null) continue;
        if (route.action.kind === 'deny') {
          if (route.methods === null && route.headers === null) denied.add(pattern, position);
          continue;
        }
        if (denied.coverersOf(overlap).length > 0) continue;
        reader.problems.push({
          file: reader.file,
          line: pattern.line,
          field: `routes[${route.index}] (${route.name}).match.path`,
          message: `'${pattern.text}' sends requests under the protected path '${guarded.text}' (e.g. ${examplePath(overlap)}) to ${targetsOf(route)}; ${whyUncovered(guarded, overlap, routes.slice(0, position))}`,
        });
        break;
      }
    });
  }
}

function targetsOf(route: RouteConfig): string {
  if (route.action.kind === 'deny') return 'nobody';
  const named = route.action.shares.map((share) => share.backend);
  return named.length === 0 ? 'the legacy backend' : `${named.join(', ')} and the legacy backend`;
}

/** What is wrong with the deny routes above: conditions, too narrow a path, or none at all. */
function whyUncovered(guarded: Pattern, overlap: Pattern, earlier: readonly RouteConfig[]): string {
  const denies = earlier.filter((route) => route.action.kind === 'deny' && route.patterns.some((p) => intersectPatterns(p, overlap) !== null));
  const conditional = denies.find((route) => route.methods !== null || route.headers !== null);
  if (conditional) {
    const conditions = [
      conditional.methods ? `methods ${[...conditional.methods].join(', ')}` : '',
      conditional.headers ? `headers ${conditional.headers.map(([n, v]) => `${n}: ${v}`).join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' and ');
    return `the deny route '${conditional.name}' (line ${conditional.line}) applies only to ${conditions}, every other request falls through: drop its conditions`;
  }
  if (denies.length > 0) {
    const partial = denies[0]!;
    return `the deny route '${partial.name}' (line ${partial.line}) covers only ${partial.patterns.map((p) => `'${p.text}'`).join(', ')}, not all of '${overlap.text}': make it deny '${guarded.text}'`;
  }
  return `no deny route above it covers '${overlap.text}': put one before it, e.g. - { name: protected, match: { path: ${guarded.text} }, deny: 404 }`;
}

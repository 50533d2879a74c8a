import { LineCounter, parseDocument } from 'yaml';
import type { ConfigProblem } from './problems.ts';
import type { RoutesConfig, RouteConfig } from './routesConfig.ts';
import { validateBackends, type UrlOverride } from './validateBackends.ts';
import { validateCohort } from './validateCohort.ts';
import { validateOutlier, validateReplay, validateTimeouts } from './validatePolicies.ts';
import { validateProtect, validateProtection } from './validateProtection.ts';
import { validateReachability } from './validateReachability.ts';
import { validateRolloutGroups } from './validateRollout.ts';
import { validateRoute } from './validateRoute.ts';
import { validateTesters } from './validateTesters.ts';
import { YamlReader } from './yamlReader.ts';
import { syntaxProblems } from './yamlSyntax.ts';

const TOP_KEYS = ['backends', 'cohort', 'outlier', 'replay', 'timeouts', 'testers', 'protect', 'routes'] as const;

export type ReadResult = { readonly ok: true; readonly config: RoutesConfig } | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/**
 * routes.yaml text → validated RoutesConfig, or every problem found (not just the first),
 * each with file, line, field and what is allowed.
 */
export function readRoutesConfig(text: string, file: string, urlOverride: UrlOverride): ReadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const reader = new YamlReader(file, lineCounter);
  if (doc.errors.length > 0) {
    return { ok: false, problems: syntaxProblems(doc, doc.errors, file, lineCounter) };
  }
  const top = reader.map(doc.contents, '', 'the file must be a mapping with backends: and routes:');
  if (!top) return { ok: false, problems: reader.problems };
  const entries = reader.knownEntries(top, '', TOP_KEYS);
  if (!entries.has('backends')) reader.report(top, 'backends', 'is required: the back ends, one of them with legacy: true');
  if (!entries.has('routes')) reader.report(top, 'routes', 'is required: the list of routes, tried in order');

  const backends = validateBackends(reader, entries.get('backends')?.value, urlOverride);
  const cohort = validateCohort(reader, entries.get('cohort')?.value);
  const outlier = validateOutlier(reader, entries.get('outlier')?.value);
  const replay = validateReplay(reader, entries.get('replay')?.value);
  const timeouts = validateTimeouts(reader, entries.get('timeouts')?.value);
  const testers = validateTesters(reader, entries.get('testers')?.value);
  const protect = validateProtect(reader, entries.get('protect')?.value);
  const names = { all: backends.map((b) => b.name), legacy: backends.find((b) => b.legacy)?.name };

  const routes: RouteConfig[] = [];
  const routesNode = entries.get('routes')?.value;
  if (routesNode !== undefined) {
    const seq = reader.seq(routesNode, 'routes', 'routes, tried in order; the first match wins');
    seq?.items.forEach((item, index) => {
      const route = validateRoute(reader, item, index, names);
      if (route) routes.push(route);
    });
    if (seq && seq.items.length === 0) reader.report(seq, 'routes', 'needs at least one route, e.g. - { name: site, match: { path: /** }, split: {} }');
  }
  validateReachability(reader, routes);
  validateRolloutGroups(reader, routes);
  validateProtection(reader, protect, routes);

  if (reader.problems.length > 0) {
    const sorted = [...reader.problems].sort((a, b) => a.line - b.line);
    return { ok: false, problems: sorted };
  }
  return { ok: true, config: { file, backends, cohort, outlier, replay, timeouts, routes, protect, testers } };
}

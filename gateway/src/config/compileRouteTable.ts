import { formatProblem, type ConfigProblem } from './problems.ts';
import { readRoutesConfig } from './readRoutesConfig.ts';
import { RouteTable } from './routeTable.ts';
import { noUrlOverride, type UrlOverride } from './validateBackends.ts';

export type LoadResult =
  | { readonly ok: true; readonly table: RouteTable; readonly text: string }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[]; readonly text: string };

/** Parses and validates routes.yaml text into a RouteTable. */
export function compileRouteTable(text: string, file: string, urlOverride: UrlOverride = noUrlOverride): LoadResult {
  const read = readRoutesConfig(text, file, urlOverride);
  return read.ok ? { ok: true, table: new RouteTable(read.config), text } : { ok: false, problems: read.problems, text };
}

export function describeProblems(problems: readonly ConfigProblem[]): string {
  return problems.map(formatProblem).join('\n');
}

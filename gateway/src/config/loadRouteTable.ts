import { readFile } from 'node:fs/promises';
import { formatProblem, type ConfigProblem } from './problems.ts';
import { readRoutesConfig } from './readRoutesConfig.ts';
import { RouteTable } from './routeTable.ts';
import { noUrlOverride, type UrlOverride } from './validateBackends.ts';

export type LoadResult =
  | { readonly ok: true; readonly table: RouteTable; readonly text: string }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[]; readonly text: string | null };

/** Parses and validates routes.yaml text into a RouteTable. */
export function compileRouteTable(text: string, file: string, urlOverride: UrlOverride = noUrlOverride): LoadResult {
  const read = readRoutesConfig(text, file, urlOverride);
  return read.ok ? { ok: true, table: new RouteTable(read.config), text } : { ok: false, problems: read.problems, text };
}

/** Reads, parses and validates a routes file; an unreadable file is a problem like any other. */
export async function loadRouteTable(file: string, urlOverride: UrlOverride = noUrlOverride): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file (set GATEWAY_ROUTES or pass the file path)' : (error as Error).message;
    return { ok: false, problems: [{ file, line: 1, field: '', message: `cannot read the routes file: ${reason}` }], text: null };
  }
  return compileRouteTable(text, file, urlOverride);
}

export function describeProblems(problems: readonly ConfigProblem[]): string {
  return problems.map(formatProblem).join('\n');
}

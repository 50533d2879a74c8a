import type { Difference } from './difference.ts';

/** How the parts of a diff line are shown: plain for logs and pipes, ANSI colours on a terminal. */
export interface Painter {
  readonly where: (text: string) => string;
  readonly primary: (text: string) => string;
  readonly candidate: (text: string) => string;
}

const same = (text: string) => text;
export const PLAIN: Painter = { where: same, primary: same, candidate: same };
export const ANSI: Painter = {
  where: (text) => `\u001b[1m${text}\u001b[22m`,
  primary: (text) => `\u001b[31m${text}\u001b[39m`,
  candidate: (text) => `\u001b[32m${text}\u001b[39m`,
};

const MAX_VALUE_CHARS = 120;

/** `$[0].id: 1 → 5` — where, the primary's value, the candidate's value. */
function formatDifference(difference: Difference, paint: Painter = PLAIN): string {
  const primary = difference.kind === 'extra' ? '(absent)' : show(difference.primary);
  const candidate = difference.kind === 'missing' ? '(absent)' : show(difference.candidate);
  return `${paint.where(difference.where)}: ${paint.primary(primary)} → ${paint.candidate(candidate)}`;
}

/** At most `limit` lines, then one saying how many more there are. */
export function formatDifferences(differences: readonly Difference[], paint: Painter = PLAIN, limit = 30): string[] {
  const lines = differences.slice(0, limit).map((difference) => formatDifference(difference, paint));
  if (differences.length > limit) lines.push(`… and ${differences.length - limit} more`);
  return lines;
}

function show(value: unknown): string {
  const text = value === undefined ? '(absent)' : JSON.stringify(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';

/**
 * A unified diff (as `diff -u` prints it) of two versions of a file, by jsdiff (Myers' diff,
 * near-linear for the few changed lines of a split change); empty when nothing changed.
 * A change only in the final newline shows as a hunk with `\ No newline at end of file`.
 */
export function fileDiff(before: string, after: string, name: string, context = 3): string {
  if (before === after) return '';
  return createTwoFilesPatch(name, `${name} (after)`, before, after, undefined, undefined, { context, headerOptions: FILE_HEADERS_ONLY });
}

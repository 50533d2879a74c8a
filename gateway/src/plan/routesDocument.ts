import { isMap, isScalar, isSeq, parseDocument, type Pair, type YAMLMap } from 'yaml';
import type { RouteChange } from './planChange.ts';

/** One replacement in the file's text: `[start, end)` becomes `text`. */
interface TextEdit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

export type EditResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly message: string };

/**
 * Writes new splits into routes.yaml text, changing nothing else. The yaml Document API
 * finds each `split` node and its source range; only those characters are replaced. (Printing
 * the whole Document again with `String(doc)` keeps comments but re-flows the layout —
 * aligned values, spacing before `#`, `[a, b]` — so a one-number change would show up as a
 * diff on unrelated lines.)
 */
export function writeSplits(text: string, changes: readonly RouteChange[], legacyName: string): EditResult {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) return { ok: false, message: `the file is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}` };
  const routes = isMap(doc.contents) ? doc.contents.get('routes', true) : undefined;
  if (!isSeq(routes)) return { ok: false, message: 'the file has no routes: list' };

  const edits: TextEdit[] = [];
  for (const change of changes) {
    const route = routes.items.find((item) => isMap(item) && item.get('name') === change.route) as YAMLMap | undefined;
    const split = route?.get('split', true);
    if (!isMap(split) || !split.range) return { ok: false, message: `route ${change.route} has no split: mapping in the file` };
    edits.push(...splitEdits(text, split, change, legacyName));
  }
  // From the end backwards, so earlier offsets stay valid.
  edits.sort((a, b) => b.start - a.start);
  let result = text;
  for (const edit of edits) result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
  return { ok: true, text: result };
}

/**
 * Numbers already written are replaced in place. A new backend missing from the split is
 * added (a flow map `{ … }` is rewritten on its one line; a block map gets a line in the
 * same indentation). The legacy backend is written only where the file lists it: it
 * otherwise takes the rest implicitly, which is what the file said before.
 */
function splitEdits(text: string, split: YAMLMap, change: RouteChange, legacyName: string): TextEdit[] {
  const pairs = split.items as Pair[];
  const written = new Map<string, Pair>();
  for (const pair of pairs) if (isScalar(pair.key)) written.set(String(pair.key.value), pair);
  const missing = Object.entries(change.after).filter(([name, percent]) => !written.has(name) && name !== legacyName && percent !== 0);

  if (split.flow && missing.length > 0) {
    const entries = [...written.keys()].map((name) => `${name}: ${change.after[name] ?? 0}`);
    entries.push(...missing.map(([name, percent]) => `${name}: ${percent}`));
    return [{ start: split.range![0], end: split.range![1], text: `{ ${entries.join(', ')} }` }];
  }

  const edits: TextEdit[] = [];
  for (const [name, pair] of written) {
    const value = pair.value;
    const percent = change.after[name];
    if (percent === undefined || !isScalar(value) || !value.range) continue;
    edits.push({ start: value.range[0], end: value.range[1], text: String(percent) });
  }
  if (missing.length > 0) {
    const first = pairs[0]!.key as { range: [number, number, number] };
    const last = pairs[pairs.length - 1]!.value as { range: [number, number, number] };
    const indent = ' '.repeat(first.range[0] - text.lastIndexOf('\n', first.range[0] - 1) - 1);
    const lineEnd = text.indexOf('\n', last.range[1]);
    const at = lineEnd === -1 ? text.length : lineEnd;
    edits.push({ start: at, end: at, text: missing.map(([name, percent]) => `\n${indent}${name}: ${percent}`).join('') });
  }
  return edits;
}

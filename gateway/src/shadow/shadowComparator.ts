import type { CapturedResponse } from './capturedResponse.ts';
import type { Difference } from './difference.ts';
import { diffJson } from './jsonDiff.ts';
import type { IgnoreRule } from '../core/jsonPath.ts';

/** What to compare: response headers by name (the rest — Date, X-Request-ID… — never), and body locations to skip. */
export interface ComparisonRules {
  readonly headers: readonly string[];
  readonly ignore: readonly IgnoreRule[];
}

/**
 * Compares two answers to the same request: status, the selected headers, and the body —
 * structurally when both are JSON (key order irrelevant, ignore rules applied), byte for
 * byte otherwise. Returns every difference; an empty list means the answers are equal.
 */
export class ShadowComparator {
  private readonly ignoresWholeBody: boolean;

  constructor(private readonly rules: ComparisonRules) {
    this.ignoresWholeBody = rules.ignore.some((rule) => rule.covers([]));
  }

  compare(primary: CapturedResponse, candidate: CapturedResponse): Difference[] {
    const found: Difference[] = [];
    if (primary.status !== candidate.status)
      found.push({ where: 'status', key: 'status', kind: 'changed', primary: primary.status, candidate: candidate.status });
    for (const name of this.rules.headers) {
      const a = primary.headers[name];
      const b = candidate.headers[name];
      if (a === b) continue;
      const where = `header ${name}`;
      found.push({ where, key: where, kind: b === undefined ? 'missing' : a === undefined ? 'extra' : 'changed', primary: a, candidate: b });
    }
    if (!this.ignoresWholeBody) found.push(...this.compareBodies(primary, candidate));
    return found;
  }

  private compareBodies(primary: CapturedResponse, candidate: CapturedResponse): Difference[] {
    if (primary.truncated !== candidate.truncated) {
      return [{ where: 'body', key: 'body', kind: 'changed', primary: sizeOf(primary), candidate: sizeOf(candidate) }];
    }
    // Two bodies over the cap are compared on their first bytes only: JSON cut short does not parse.
    if (!primary.truncated && isJson(primary) && isJson(candidate)) {
      const a = parseJson(primary.body);
      const b = parseJson(candidate.body);
      if (a.ok && b.ok) return diffJson(a.value, b.value, this.rules.ignore);
    }
    if (primary.body.equals(candidate.body)) return [];
    return [textDifference(primary.body, candidate.body)];
  }
}

function isJson(response: CapturedResponse): boolean {
  return response.body.length > 0 && /[/+]json\b/i.test(response.headers['content-type'] ?? '');
}

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch {
    // Labelled JSON that does not parse is compared as text, which still shows the difference.
    return { ok: false };
  }
}

function sizeOf(response: CapturedResponse): string {
  return response.truncated ? `${response.bodyBytes} bytes or more (over the body cap)` : `${response.bodyBytes} bytes`;
}

/** The first place two non-JSON bodies differ, with a little context on each side. */
function textDifference(a: Buffer, b: Buffer): Difference {
  let at = 0;
  while (at < a.length && at < b.length && a[at] === b[at]) at++;
  const excerpt = (body: Buffer) => {
    const from = Math.max(0, at - 20);
    const text = body.subarray(from, at + 40).toString('utf8');
    return `${from > 0 ? '…' : ''}${text}${at + 40 < body.length ? '…' : ''}`;
  };
  return { where: `body (first difference at byte ${at})`, key: 'body', kind: 'changed', primary: excerpt(a), candidate: excerpt(b) };
}

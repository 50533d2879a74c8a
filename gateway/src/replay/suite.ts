import { ConfigError } from '@mythoughts/runtime/errors';
import { METHODS, SAFE_METHODS } from '../core/httpMethods.ts';
import { IgnoreRule } from '../core/jsonPath.ts';
import type { MismatchesPage } from '../shadow/findingsReport.ts';
import type { AnswerView, ShadowRulesView } from '../shadow/mismatchStore.ts';
import type { RecordedRequest } from '../shadow/recordedRequest.ts';

/** The first key of every suite file: what reads it can tell a suite of another version. */
export const SUITE_FORMAT = 'gateway-replay-suite/1';

/** The primary's recorded answer: what the replay target must answer. */
export type ExpectedAnswer = Omit<AnswerView, 'ms'>;

/** How a case's answers are compared: the route's shadow rules when it was exported, and the noise learnt by then. */
export type CaseRules = Pick<ShadowRulesView, 'headers' | 'ignore'> & {
  /** Places (list indices as `[*]`) where the primary's own two answers differed: shown, not counted. */
  readonly noise: readonly string[];
};

export interface ReplayCase {
  /** `thoughts: GET /api/thoughts/?search=few` */
  readonly name: string;
  readonly route: string;
  readonly recordedAt: string;
  readonly requestId: string;
  readonly request: Omit<RecordedRequest, 'unreplayable'>;
  readonly expect: ExpectedAnswer;
  readonly compare: CaseRules;
  /** How the shadow candidate differed when it was recorded (for the reader; the replay computes its own). */
  readonly recordedDiff: readonly string[];
  /**
   * Written by hand when the team accepts this difference (why, e.g. "legacy quirk kept:
   * docs/api-contract.md §5"): the replay still compares and shows it, but does not fail on it.
   */
  readonly accepted?: string;
}

export interface ReplaySuite {
  readonly format: typeof SUITE_FORMAT;
  readonly exportedAt: string;
  /** The admin API the mismatches were read from. */
  readonly source: string;
  readonly cases: readonly ReplayCase[];
}

/**
 * The recorded mismatches as replay cases, oldest first (the order they happened in, which
 * matters once writes are among them), one case per distinct request (as first recorded). Left out, each with a
 * sentence saying why: routes whose shadow is gone from the running plan (their rules are
 * unknown), writes on a route whose shadow does not mirror that method (only reads are
 * exported unless the shadow allows writes), requests too big to have been kept whole.
 */
export function suiteCases(page: Pick<MismatchesPage, 'mismatches' | 'noise' | 'rules'>, route?: string): { cases: ReplayCase[]; left: string[] } {
  const cases: ReplayCase[] = [];
  const left: string[] = [];
  const seen = new Set<string>();
  const ruleless = new Map<string, number>();
  // Oldest first: a request recorded several times is kept as it was first seen.
  for (const record of [...page.mismatches].reverse()) {
    if (route !== undefined && record.route !== route) continue;
    const rules = page.rules[record.route];
    const { method, target } = record.request;
    if (!rules) {
      ruleless.set(record.route, (ruleless.get(record.route) ?? 0) + 1);
      continue;
    }
    if (!SAFE_METHODS.has(method) && !rules.methods.includes(method)) {
      left.push(`${method} ${target} (route ${record.route}): a write, and the route's shadow does not allow writes`);
      continue;
    }
    if (record.request.unreplayable !== null) {
      left.push(`${method} ${target} (route ${record.route}): ${record.request.unreplayable}`);
      continue;
    }
    const request = { method, target, headers: record.request.headers, body: record.request.body };
    const key = JSON.stringify([record.route, request]);
    if (seen.has(key)) continue;
    seen.add(key);
    const { backend, status, headers, body, truncated, bodyBytes } = record.primary;
    cases.push({
      name: `${record.route}: ${method} ${target}`,
      route: record.route,
      recordedAt: record.at,
      requestId: record.requestId,
      request,
      // Only the compared headers: the others (Date, X-Request-ID…) would be noise in the file.
      expect: {
        backend,
        status,
        headers: Object.fromEntries(rules.headers.flatMap((name) => (name in headers ? [[name, headers[name]!]] : []))),
        body,
        truncated,
        bodyBytes,
      },
      compare: { headers: rules.headers, ignore: rules.ignore, noise: page.noise[record.route] ?? [] },
      recordedDiff: record.diff,
    });
  }
  for (const [name, count] of ruleless)
    left.push(`route ${name}: ${count} recorded mismatch${count === 1 ? '' : 'es'}, but the running plan no longer shadows it (its rules are unknown)`);
  return { cases, left };
}

/** A suite file's text, checked: a file that is not one says where (`suite.json: cases[2].request.method: …`). */
export function parseSuite(text: string, file: string): ReplaySuite {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `${file} is not JSON (${(error as Error).message}): a suite is what 'gateway mismatches export' writes (the hurl format is for hurl itself)`,
    );
  }
  const at = (field: string, why: string) => new ConfigError(`${file}: ${field}: ${why}`);
  if (!isRecord(value) || value.format !== SUITE_FORMAT)
    throw at('format', `must be "${SUITE_FORMAT}": this file is not a suite 'gateway mismatches export' wrote`);
  if (!Array.isArray(value.cases)) throw at('cases', 'must be a list');
  value.cases.forEach((item: unknown, i) => checkCase(item, (field, why) => at(`cases[${i}]${field}`, why)));
  return value as unknown as ReplaySuite;
}

function checkCase(item: unknown, at: (field: string, why: string) => ConfigError): void {
  if (!isRecord(item)) throw at('', 'must be an object');
  const { request, expect, compare } = item;
  if (!isRecord(request)) throw at('.request', 'must be an object');
  if (typeof request.method !== 'string' || !(METHODS as readonly string[]).includes(request.method))
    throw at('.request.method', `must be one of ${METHODS.join(', ')}`);
  if (typeof request.target !== 'string' || !request.target.startsWith('/')) throw at('.request.target', 'must be a path such as /api/thoughts/?search=few');
  if (!isStringRecord(request.headers)) throw at('.request.headers', 'must map header names to strings');
  if (request.body !== null && typeof request.body !== 'string') throw at('.request.body', 'must be a string or null');
  if (!isRecord(expect)) throw at('.expect', 'must be an object');
  if (!Number.isInteger(expect.status)) throw at('.expect.status', 'must be an HTTP status');
  if (!isStringRecord(expect.headers)) throw at('.expect.headers', 'must map header names to strings');
  if (typeof expect.body !== 'string' || typeof expect.truncated !== 'boolean' || !Number.isInteger(expect.bodyBytes))
    throw at('.expect', 'needs body (a string), truncated (true/false) and bodyBytes');
  if (item.accepted !== undefined && (typeof item.accepted !== 'string' || item.accepted.trim() === ''))
    throw at('.accepted', 'must say why the difference is accepted (a non-empty string), or be left out');
  if (!isRecord(compare)) throw at('.compare', 'must be an object');
  for (const list of ['headers', 'ignore', 'noise'] as const)
    if (!Array.isArray(compare[list]) || !compare[list].every((entry) => typeof entry === 'string')) throw at(`.compare.${list}`, 'must be a list of strings');
  for (const text of compare.ignore as string[]) {
    const rule = IgnoreRule.parse(text);
    if (!(rule instanceof IgnoreRule)) throw at('.compare.ignore', rule.error);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return isRecord(value) && Object.values(value).every((entry) => typeof entry === 'string');
}

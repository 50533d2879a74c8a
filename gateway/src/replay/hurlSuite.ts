import { formatLocation, generalLocation, IgnoreRule, type Segment } from '../core/jsonPath.ts';
import { TOKEN_PLACEHOLDER } from '../shadow/recordedRequest.ts';
import type { ReplayCase, ReplaySuite } from './suite.ts';
import { usersIn } from './tokens.ts';

/** Beyond this many fields a body is not asserted field by field (the rest is said in a comment). */
const MAX_ASSERTED_FIELDS = 200;

/**
 * The suite as a Hurl file (https://hurl.dev), for developers who run their API tests with
 * hurl: one entry per case, asserting the primary's status, the compared headers and the
 * body — JSON field by field (`jsonpath "$[0].id" == 1`, lists by `count`), other text
 * whole — minus the ignored and noisy places. Token placeholders become Hurl variables
 * captured by a login entry per user at the top, so the file runs as it is:
 *
 *     hurl --test --variable base_url=http://127.0.0.1:8003 \
 *          --variable login_url=http://127.0.0.1:8080 --variable password_bruce=password suite.hurl
 */
export function hurlSuite(suite: ReplaySuite): string {
  const users = usersIn(suite);
  const run = ['hurl --test --variable base_url=http://TARGET', ...(users.length > 0 ? ['--variable login_url=http://LOGIN'] : [])]
    .concat(users.map((user) => `--variable ${variable('password', user)}=PASSWORD`))
    .join(' ');
  const lines = [
    `# Replay suite: ${suite.cases.length} request${suite.cases.length === 1 ? '' : 's'} whose answers differed under shadow traffic,`,
    `# each asserting the answer the primary gave (exported from ${suite.source} at ${suite.exportedAt}).`,
    `# Run: ${run} FILE`,
    '',
  ];
  for (const user of users) lines.push(...loginEntry(user), '');
  suite.cases.forEach((replay, i) => lines.push(...caseEntry(replay, i + 1), ''));
  return `${lines.join('\n').trimEnd()}\n`;
}

function loginEntry(user: string): string[] {
  return [
    `# Log in as ${user}: its token is {{${variable('token', user)}}} below.`,
    'POST {{login_url}}/api/login/',
    'Content-Type: application/json',
    `{"username": ${JSON.stringify(user)}, "password": "{{${variable('password', user)}}}"}`,
    'HTTP 200',
    '[Captures]',
    `${variable('token', user)}: jsonpath "$.Authorized" regex "^Bearer (.+)$"`,
  ];
}

function caseEntry(replay: ReplayCase, number: number): string[] {
  const { request, expect } = replay;
  const lines = [`# ${number}. ${comment(replay.name)} (recorded ${replay.recordedAt}, request ${comment(replay.requestId)})`];
  for (const diff of replay.recordedDiff.slice(0, 5)) lines.push(`#    shadow saw ${comment(diff)}`);
  lines.push(`${request.method} {{base_url}}${urlPart(request.target)}`);
  for (const [name, value] of Object.entries(request.headers)) lines.push(`${name}: ${headerValue(value)}`);
  if (request.body !== null) lines.push(bodyOf(request.body, request.headers['content-type'] ?? ''));
  lines.push(`HTTP ${expect.status}`, '[Asserts]');
  for (const name of replay.compare.headers) {
    const value = expect.headers[name];
    lines.push(value === undefined ? `header "${name}" not exists` : `header "${name}" == ${quoted(value)}`);
  }
  lines.push(...bodyAsserts(replay));
  return lines;
}

function bodyAsserts(replay: ReplayCase): string[] {
  const { expect, compare } = replay;
  const ignore = compare.ignore.map((text) => IgnoreRule.parse(text)).filter((rule): rule is IgnoreRule => rule instanceof IgnoreRule);
  if (ignore.some((rule) => rule.covers([])) || expect.body === '') return [];
  if (expect.truncated) return [`# body not asserted: the recorded answer (${expect.bodyBytes} bytes) was kept only in part`];
  if (!/[/+]json\b/i.test(expect.headers['content-type'] ?? '')) return [`body == ${quoted(expect.body)}`];
  let value: unknown;
  try {
    value = JSON.parse(expect.body);
  } catch {
    return [`body == ${quoted(expect.body)}`];
  }
  const noise = new Set(compare.noise);
  const asserts: string[] = [];
  let skipped = 0;
  const visit = (node: unknown, location: Segment[]) => {
    if (ignore.some((rule) => rule.covers(location)) || noise.has(generalLocation(location))) return;
    const path = quoted(formatLocation(location));
    const add = (line: string) => (asserts.length < MAX_ASSERTED_FIELDS ? asserts.push(`jsonpath ${path} ${line}`) : skipped++);
    if (Array.isArray(node)) {
      add(`count == ${node.length}`);
      node.forEach((item, i) => visit(item, [...location, i]));
    } else if (node !== null && typeof node === 'object') {
      if (Object.keys(node).length === 0) add('isCollection');
      for (const [key, item] of Object.entries(node)) visit(item, [...location, key]);
    } else {
      const literal = scalar(node);
      if (literal === null) skipped++;
      else add(`== ${literal}`);
    }
  };
  visit(value, []);
  if (skipped > 0) asserts.push(`# ${skipped} more field${skipped === 1 ? '' : 's'} not asserted`);
  return asserts;
}

/** A Hurl literal for a JSON scalar; null when Hurl has none (a number in exponent form). */
function scalar(value: unknown): string | null {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return /^-?\d+(\.\d+)?$/.test(String(value)) ? String(value) : null;
  return quoted(String(value));
}

/** A Hurl quoted string: `\` and `"` escaped, control characters and `{` (a template would start at `{{`) as `\u{…}`. */
function quoted(text: string): string {
  let written = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    written += char === '\\' || char === '"' ? `\\${char}` : code < 0x20 || char === '{' ? `\\u{${code.toString(16)}}` : char;
  }
  return `"${written}"`;
}

/** A header value with `{{token:USER}}` as the Hurl variable of USER's token; elsewhere `#` (a comment), `\` (an escape) and `{` (a template) escaped. */
function headerValue(value: string): string {
  const text = (part: string) => part.replace(/[\\#{]/g, (char) => (char === '{' ? '\\u{7b}' : `\\${char}`));
  let written = '';
  let at = 0;
  for (const found of value.matchAll(TOKEN_PLACEHOLDER)) {
    written += `${text(value.slice(at, found.index))}{{${variable('token', found[1]!)}}}`;
    at = found.index + found[0].length;
  }
  return written + text(value.slice(at));
}

/** The target as a Hurl URL part: characters Hurl or curl read specially are percent-encoded (the server decodes them alike). */
function urlPart(target: string): string {
  return target.replace(/[\s"#[\]{}\\]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** A JSON body as Hurl JSON (a `{{` inside a string escaped as JSON `\u007b`); anything else as base64, which Hurl sends byte for byte. */
function bodyOf(body: string, contentType: string): string {
  if (/[/+]json\b/i.test(contentType)) {
    try {
      return JSON.stringify(JSON.parse(body)).replaceAll('{{', '{\\u007b');
    } catch {
      // Labelled JSON that does not parse: sent as the bytes it is.
    }
  }
  return `base64,${Buffer.from(body).toString('base64')};`;
}

/** Comment text on one line. */
function comment(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** `token_bruce`, `password_bruce`: Hurl variable names allow letters, digits, `_` and `-`. */
function variable(kind: 'token' | 'password', user: string): string {
  return `${kind}_${user.replace(/[^\w-]/g, '_')}`;
}

/**
 * The one list of secret query parameters, for every log of the system (the back ends' access
 * logs, the gateway's access log and its shadow mismatch records). Secrets that clients put in query strings (`POST /api/login/?username=…&password=…` is how
 * the monolith's mobile app logs in) are accepted, but their values never reach a log line.
 * A parameter is secret when its name, lower-cased, contains one of these words: `password`,
 * `new_password`, `passwd`, `access_token`, `csrf_token`, `client_secret`, `api_key`,
 * `session`…, or is one of a few short names (`sid`, `code`…). Too broad rather than too
 * narrow: a redacted harmless value costs nothing.
 */
const SECRET_PARAMETER_WORDS: readonly string[] = ['pass', 'pwd', 'token', 'secret', 'key', 'auth', 'session', 'jwt', 'signature', 'credential'];

/** Short names too common inside harmless ones to match as words, secret only as the whole name. */
const SECRET_PARAMETER_NAMES: readonly string[] = ['sid', 'sig', 'code', 'otp'];

const REDACTED = '[redacted]';

/** pino's `redact` paths for every process's log: credentials in headers and bodies never reach a line. */
export const REDACTED_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.password', 'password', '*.token'];

/** A query parameter, JSON field or header whose name says it holds a secret (the lists above). */
export function isSecretParameter(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_PARAMETER_NAMES.includes(lower) || SECRET_PARAMETER_WORDS.some((word) => lower.includes(word));
}

/**
 * A URL or request target (`/path?a=1&password=x`, absolute or relative) with the value of
 * every secret query parameter replaced by `[redacted]`; everything else is kept byte for
 * byte, so the logged line still shows what was asked. The name is percent-decoded before it
 * is checked (`pass%77ord` is `password`).
 */
export function redactQuery(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const hash = url.indexOf('#', start);
  const end = hash === -1 ? url.length : hash;
  const pairs = url
    .slice(start + 1, end)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals === -1 ? pair : pair.slice(0, equals);
      return isSecretParameter(decodeName(name)) && equals !== -1 ? `${name}=${REDACTED}` : pair;
    });
  return `${url.slice(0, start + 1)}${pairs.join('&')}${url.slice(end)}`;
}

/** A parsed query object (Express's `req.query`) with secret values replaced, at any depth. */
export function redactParameters(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactParameters);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, isSecretParameter(name) ? REDACTED : redactParameters(inner)]));
}

function decodeName(name: string): string {
  if (!name.includes('%') && !name.includes('+')) return name; // the common case, on the gateway's access-log path
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name; // broken percent-encoding: checked as sent
  }
}

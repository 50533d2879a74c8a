/**
 * Query parameters whose values are secrets: written to no log. Some clients (the
 * monolith's mobile app among them) send credentials in the query string; the gateway
 * forwards them untouched but logs `name=[redacted]`. A name matches case-insensitively,
 * exactly or, for the three words marked *, anywhere in the name (`new_password`, `x-api-token`).
 */
export const SECRET_QUERY_NAMES = ['password*', 'passwd', 'pass', 'pwd', 'token*', 'secret*', 'access_token', 'refresh_token', 'id_token', 'api_key', 'apikey', 'key', 'auth', 'authorization', 'session', 'sessionid', 'sid', 'code', 'signature', 'sig', 'jwt', 'otp', 'credential', 'credentials'] as const;

const EXACT = new Set<string>(SECRET_QUERY_NAMES.filter((name) => !name.endsWith('*')));
const CONTAINED = SECRET_QUERY_NAMES.filter((name) => name.endsWith('*')).map((name) => name.slice(0, -1));

export const REDACTED = '[redacted]';

function isSecretName(raw: string): boolean {
  let name = raw.toLowerCase();
  if (name.includes('%') || name.includes('+')) {
    try {
      name = decodeURIComponent(name.replaceAll('+', ' '));
    } catch {
      // Undecodable: judge it as written.
    }
  }
  if (EXACT.has(name)) return true;
  for (const word of CONTAINED) if (name.includes(word)) return true;
  return false;
}

/** A query string (with its leading `?`) with every secret parameter's value replaced by [redacted]. */
export function redactQuery(query: string): string {
  if (query.length <= 1) return query;
  const parts = query.slice(1).split('&');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const equals = part.indexOf('=');
    const name = equals === -1 ? part : part.slice(0, equals);
    if (equals !== -1 && isSecretName(name)) parts[i] = `${name}=${REDACTED}`;
  }
  return `?${parts.join('&')}`;
}

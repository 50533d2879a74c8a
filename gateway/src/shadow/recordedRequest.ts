import { isSecretParameter, redactParameters, redactQuery } from '@mythoughts/runtime/http/redaction';
import { parseBearer } from '@mythoughts/runtime/tokens';
import { CONTROL_HEADERS } from '../core/controlHeaders.ts';
import { KEPT_BODY_BYTES, REDACTED, redactSecrets } from './secrets.ts';
import { NOT_COPIED, type OutgoingCopy } from './shadowClient.ts';

/**
 * A mirrored request as a mismatch record keeps it: enough to send it again (`gateway
 * mismatches export`, `gateway replay`), nothing that would let the reader of an exported
 * file act as the client. A bearer token becomes the placeholder `Bearer {{token:USERNAME}}`
 * the replay fills with a fresh token of that user; other secrets are dropped or replaced by
 * `[redacted]`.
 */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query; the values of secret-looking query parameters are `[redacted]`. */
  readonly target: string;
  /** The headers a replay sends (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as text (secret fields redacted), or null when there was none. */
  readonly body: string | null;
  /** Why this request cannot be sent again as it was (its body is over the record's cap), or null. */
  readonly unreplayable: string | null;
}

/** Tells the username of a bearer token: a verified one when the gateway has the public key. */
export type TokenIdentifier = (token: string) => string | null;

/** `{{token:bruce}}`: stands for a current token of user bruce; `gateway replay` fills it in. */
export const TOKEN_PLACEHOLDER = /\{\{token:([\w.@+-]+)\}\}/g;

/**
 * Headers never kept: those that describe one connection, a cookie (a session is a
 * secret), the proxies' own (`X-Forwarded-*`, tracing, the request id, the gateway's
 * control headers), and any whose name says it holds a secret (`X-Api-Key`, `X-Auth-Token`…).
 */
const DROPPED = new Set([
  ...NOT_COPIED,
  ...CONTROL_HEADERS,
  'cookie',
  'proxy-authorization',
  'forwarded',
  'via',
  'x-real-ip',
  'x-request-id',
  'traceparent',
  'tracestate',
  'baggage',
]);

export function recordRequest(copy: OutgoingCopy, identify: TokenIdentifier): RecordedRequest {
  const headers: Record<string, string> = {};
  // Sorted by name: a suite file reads the same whoever sent the request.
  for (const [name, value] of Object.entries(copy.headers).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (name === 'authorization') headers[name] = placeholderFor(value, identify);
    else if (!DROPPED.has(name) && !name.startsWith('x-forwarded-') && !isSecretParameter(name)) headers[name] = value;
  }
  const body = copy.body === null || copy.body.length === 0 ? null : copy.body;
  const tooBig = body !== null && body.length > KEPT_BODY_BYTES;
  return {
    method: copy.method,
    target: redactQuery(copy.target),
    headers,
    body: body === null || tooBig ? null : redactBody(body.toString('utf8'), headers['content-type'] ?? ''),
    unreplayable: tooBig ? `its body (${body.length} bytes) is over the ${KEPT_BODY_BYTES} bytes a record keeps` : null,
  };
}

/** The token of a known user becomes that user's placeholder; anything else (Basic, a token that does not verify) `[redacted]`, which replays as a bad credential. */
function placeholderFor(authorization: string, identify: TokenIdentifier): string {
  const token = parseBearer(authorization);
  const username = token === null ? null : identify(token);
  return username !== null && /^[\w.@+-]+$/.test(username) ? `Bearer {{token:${username}}}` : REDACTED;
}

/** The `username` a JWT claims, unverified: for a gateway without the public key, where a placeholder only says whom to log in as. */
export function claimedUsername(token: string): string | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { username?: unknown };
    return typeof payload.username === 'string' && payload.username !== '' ? payload.username : null;
  } catch {
    return null; // not a JWT: no user to name
  }
}

/** Secret fields of a JSON or form body replaced by `[redacted]`, tokens in any text too. */
function redactBody(text: string, contentType: string): string {
  if (/[/+]json\b/i.test(contentType)) {
    try {
      return redactSecrets(JSON.stringify(redactParameters(JSON.parse(text))));
    } catch {
      // Labelled JSON that does not parse: kept as text, tokens redacted below.
    }
  }
  if (/application\/x-www-form-urlencoded/i.test(contentType)) return redactQuery(`?${text}`).slice(1);
  return redactSecrets(text);
}

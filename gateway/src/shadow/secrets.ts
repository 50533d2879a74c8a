/**
 * What a mismatch record must not keep: bearer tokens and JWTs in any text (a login answer
 * carries one), and bodies beyond a bound. The same functions run on an answer a replay
 * receives, so a recorded answer and a replayed one are compared redacted alike.
 */

/** Each body a mismatch record keeps (request, primary answer, candidate answer) is cut here: 100 records stay under 5 MB. */
export const KEPT_BODY_BYTES = 16 * 1024;

export const REDACTED = '[redacted]';

const BEARER = /(bearer\s+)[\w.~+/=-]+/gi;
/** A JWT anywhere (header `{"alg"…` base64url-encoded begins with `eyJ`), say a `token` field of a JSON answer. */
const JWT = /\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]+/g;

/** Bearer tokens and JWTs in bodies or diff lines replaced by `[redacted]`. */
export function redactSecrets(text: string): string {
  return text.replace(BEARER, `$1${REDACTED}`).replace(JWT, REDACTED);
}

/** A body as a record keeps it: its text, secrets redacted, cut to KEPT_BODY_BYTES (`truncated` says so). */
export function keptBody(body: Buffer): { readonly text: string; readonly truncated: boolean } {
  const redacted = Buffer.from(redactSecrets(body.toString('utf8')));
  if (redacted.length <= KEPT_BODY_BYTES) return { text: redacted.toString('utf8'), truncated: false };
  return { text: redacted.subarray(0, KEPT_BODY_BYTES).toString('utf8'), truncated: true };
}

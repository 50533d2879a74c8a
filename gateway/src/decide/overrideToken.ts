import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed override tokens: `gwo1.<payload>.<signature>`, payload = base64url JSON
 * `{"b": backend, "exp": epoch seconds}`, signature = base64url HMAC-SHA256 of
 * `gwo1.<payload>` with GATEWAY_OVERRIDE_SECRET. Only someone holding the secret can make
 * one, each names one backend, and it stops working at `exp`: a tester's token that leaks
 * is useless a few hours later, and an end user cannot make one at all.
 */
const VERSION = 'gwo1';

/** A secret shorter than this can be guessed offline from one token: refuse it. */
export const MIN_SECRET_LENGTH = 32;

/** Longest lifetime `gateway override-token` issues: a token is a testing aid, not an account. */
const MAX_TTL_SECONDS = 7 * 24 * 60 * 60;

export type TokenCheck = { readonly ok: true; readonly backend: string; readonly expiresAt: number } | { readonly ok: false; readonly reason: string };

export function signOverrideToken(secret: string, backend: string, expiresAtSeconds: number): string {
  const payload = Buffer.from(JSON.stringify({ b: backend, exp: expiresAtSeconds })).toString('base64url');
  return `${VERSION}.${payload}.${signature(secret, payload)}`;
}

/** Checks signature first (a forged token reveals nothing), then shape and expiry. */
export function verifyOverrideToken(secret: string, token: string, nowSeconds: number): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) return { ok: false, reason: 'override token is not a gateway override token (gwo1.…)' };
  const [, payload, given] = parts as [string, string, string];
  const expected = Buffer.from(signature(secret, payload));
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    return { ok: false, reason: 'override token signature is invalid (made with another GATEWAY_OVERRIDE_SECRET, or altered)' };
  }
  let claims: { b?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch (error) {
    // Only reachable with a correctly signed but malformed payload, i.e. a bug in a signer.
    return { ok: false, reason: `override token payload is not JSON: ${(error as Error).message}` };
  }
  if (typeof claims.b !== 'string' || typeof claims.exp !== 'number') return { ok: false, reason: 'override token payload lacks backend or expiry' };
  if (claims.exp <= nowSeconds) return { ok: false, reason: `override token expired ${new Date(claims.exp * 1000).toISOString()}` };
  return { ok: true, backend: claims.b, expiresAt: claims.exp };
}

function signature(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(`${VERSION}.${payload}`).digest('base64url');
}

/** `90s`, `15m`, `1h`, `2d` (or plain seconds) → seconds; an error message otherwise. */
export function parseTtl(text: string): number | { readonly error: string } {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!match) return { error: `--ttl '${text}' is not a duration: write e.g. 30m, 1h or 2d` };
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  if (seconds < 1 || seconds > MAX_TTL_SECONDS) return { error: `--ttl '${text}' is out of range: from 1s to ${MAX_TTL_SECONDS / 86_400}d` };
  return seconds;
}

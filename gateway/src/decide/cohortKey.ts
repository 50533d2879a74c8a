import type { IncomingHttpHeaders } from 'node:http';
import { parseBearer } from '@mythoughts/runtime/tokens';
import type { CohortKeySpec } from '../config/routesConfig.ts';
import { COHORT_COOKIE, type CohortCookies } from './cohortCookie.ts';
import { cookieValue } from './cookies.ts';
import type { CachedTokenVerifier } from './tokenCache.ts';

/** What the gateway can check a client's claimed identity with. */
export interface ClientProof {
  /** Null when the gateway has no JWT public key: `jwt:username` then never applies. */
  readonly tokens: CachedTokenVerifier | null;
  readonly cookies: CohortCookies;
}

/**
 * The client's cohort key: the first of the configured keys present on the request, and
 * only one the gateway can check — the username of a JWT that verifies, or the id of a
 * gw_cohort cookie it signed. A forged token or an invented cookie counts as no key, so no
 * client-chosen value ever picks the bucket.
 */
export function cohortKeyOf(keys: readonly CohortKeySpec[], headers: IncomingHttpHeaders, proof: ClientProof): string | null {
  for (const key of keys) {
    if (key.kind === 'jwt') {
      if (proof.tokens === null) continue;
      const token = parseBearer(headers.authorization);
      const username = token === null ? null : proof.tokens.usernameOf(token);
      if (username !== null) return username;
    } else {
      const value = cookieValue(headers.cookie, COHORT_COOKIE);
      const id = value === null ? null : proof.cookies.idOf(value);
      if (id !== null) return id;
    }
  }
  return null;
}

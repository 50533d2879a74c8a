import type { IncomingHttpHeaders } from 'node:http';
import { parseBearer } from '@mythoughts/shared/tokens';
import type { CohortKeySpec } from '../config/routesConfig.ts';
import { cookieValue } from './cookies.ts';
import type { CachedTokenVerifier } from './tokenCache.ts';

/**
 * The client's cohort key: the first of the configured keys present on the request.
 * `jwt:username` counts only for a token that verifies (a forged token cannot pick a side)
 * and never when the gateway has no public key.
 */
export function cohortKeyOf(keys: readonly CohortKeySpec[], headers: IncomingHttpHeaders, tokens: CachedTokenVerifier | null): string | null {
  for (const key of keys) {
    if (key.kind === 'jwt') {
      if (tokens === null) continue;
      const token = parseBearer(headers.authorization);
      const username = token === null ? null : tokens.usernameOf(token);
      if (username !== null) return username;
    } else {
      const value = cookieValue(headers.cookie, key.name);
      if (value !== null) return value;
    }
  }
  return null;
}

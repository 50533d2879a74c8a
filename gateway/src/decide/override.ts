import type { IncomingHttpHeaders } from 'node:http';
import { parseBearer } from '@mythoughts/runtime/tokens';
import type { Route } from '../config/routeTable.ts';
import { BACKEND_HEADER, TOKEN_HEADER } from '../core/controlHeaders.ts';
import type { Choice } from './chooseBackend.ts';
import { verifyOverrideToken } from './overrideToken.ts';
import type { CachedTokenVerifier } from './tokenCache.ts';

/** What became of a request that asked for a backend: granted (a Choice), or refused with the reason. */
export type OverrideOutcome = (Choice & { readonly kind: 'granted' }) | { readonly kind: 'refused'; readonly reason: string };

/**
 * Decides whether a request may pick its backend with `X-Gateway-Backend`. Anyone can send
 * that header, so it counts only with a proof the end user cannot make: a signed override
 * token for that very backend (`X-Gateway-Override`), or a valid JWT of a user listed under
 * `testers:`. A refused request is routed as if it had asked for nothing; the reason goes to
 * the access log so a tester can see why. Either way the gateway's control headers never
 * reach a back end (forward/headers.ts strips them).
 */
export class OverrideGate {
  constructor(
    private readonly secret: string | null,
    private readonly tokens: CachedTokenVerifier | null,
    private readonly nowSeconds: () => number = () => Date.now() / 1000,
  ) {}

  /** Null when the request asks for no backend: the common case costs one property read. */
  check(headers: IncomingHttpHeaders, route: Route, testers: ReadonlySet<string>): OverrideOutcome | null {
    const wanted = headers[BACKEND_HEADER];
    if (wanted === undefined) return null;
    if (typeof wanted !== 'string') return { kind: 'refused', reason: 'X-Gateway-Backend was sent more than once' };
    const name = wanted.trim().toLowerCase();
    const backend = route.overridable.get(name);
    if (!backend) {
      return {
        kind: 'refused',
        reason: `backend '${name.slice(0, 64)}' cannot serve route ${route.name}; allowed: ${[...route.overridable.keys()].join(', ')}`,
      };
    }
    const reason = this.refusal(headers, name, testers);
    return reason === null ? { kind: 'granted', backend, decision: 'override', ejected: null } : { kind: 'refused', reason };
  }

  /** Null when the request proves it may choose `backend`, else why not. */
  private refusal(headers: IncomingHttpHeaders, backend: string, testers: ReadonlySet<string>): string | null {
    const token = headers[TOKEN_HEADER];
    if (typeof token === 'string') {
      if (this.secret === null) return 'GATEWAY_OVERRIDE_SECRET is not set on this gateway, so no override token is valid';
      const check = verifyOverrideToken(this.secret, token.trim(), this.nowSeconds());
      if (!check.ok) return check.reason;
      return check.backend === backend ? null : `override token is for backend '${check.backend}', not '${backend}'`;
    }
    const jwt = parseBearer(headers.authorization);
    if (jwt === null) return 'needs X-Gateway-Override: <token from gateway override-token>, or the JWT of a user listed under testers:';
    if (this.tokens === null) return 'tester JWTs cannot be checked: the gateway has no JWT public key (JWT_PUBLIC_KEY_FILE)';
    const username = this.tokens.usernameOf(jwt);
    if (username === null) return 'the JWT is not valid, so it cannot make a tester';
    return testers.has(username) ? null : `user '${username}' is not listed under testers: in routes.yaml`;
  }
}

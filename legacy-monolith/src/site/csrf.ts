import type { Request, Response } from 'express';
import { doubleCsrf } from 'csrf-csrf';
import { createHmac } from 'node:crypto';
import { sessionIdOf } from './sessionCookie.ts';

/** The hidden form field that carries the token (the cookie carries its double). */
const CSRF_FIELD = 'csrf_token';
const CSRF_COOKIE = 'csrf';

export interface Csrf {
  /** Checks every unsafe request; failures reach the error handler as a 403 (`EBADCSRFTOKEN`). */
  protect: ReturnType<typeof doubleCsrf>['doubleCsrfProtection'];
  /** The token for a form on this page; sets or keeps the matching cookie. */
  token(req: Request, res: Response): string;
}

/**
 * Double-submit CSRF protection (csrf-csrf): the token in the form must equal the one in the
 * cookie, and both are an HMAC bound to the session cookie, so a token from another session
 * (or from before a login) is refused.
 */
export function createCsrf(privateKeyPem: string): Csrf {
  // Derived from the private key the monolith already holds, so every monolith process and
  // every restart accepts the same tokens without another secret to configure.
  const secret = createHmac('sha256', privateKeyPem).update('mythoughts csrf secret').digest('hex');
  const { doubleCsrfProtection, generateCsrfToken } = doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: (req) => sessionIdOf(req) ?? '',
    cookieName: CSRF_COOKIE,
    // Not `__Host-`/Secure: the monolith is served over plain HTTP behind the gateway.
    cookieOptions: { path: '/', httpOnly: true, sameSite: 'lax', secure: false },
    getCsrfTokenFromRequest: (req) => {
      const value: unknown = (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
      return typeof value === 'string' ? value : undefined;
    },
  });
  return { protect: doubleCsrfProtection, token: (req, res) => generateCsrfToken(req, res) };
}

export function isCsrfError(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'EBADCSRFTOKEN';
}

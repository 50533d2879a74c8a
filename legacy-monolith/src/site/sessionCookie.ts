import type { CookieOptions, NextFunction, Request, Response } from 'express';
import type { Models } from '../models.ts';

/** The cookie that carries the opaque server-side session id (the `sessions` table). */
const SESSION_COOKIE = 'session';

// HttpOnly keeps the id from page scripts; Lax stops it riding on cross-site POSTs.
const SESSION_COOKIE_OPTIONS: CookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' };

export function sessionIdOf(req: Request): string | undefined {
  const value: unknown = req.cookies?.[SESSION_COOKIE];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Looks up the session of the request's cookie and exposes its user as `res.locals.username`. */
export function loadSessionUser(models: Models) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const session = sessionIdOf(req);
    // A session ended elsewhere (logout, a newer login of the same user) or expired finds no row: logged out.
    res.locals.username = session ? await models.sessionUser(session) : undefined;
    next();
  };
}

/** The cookie lives exactly as long as the session row (Max-Age and Expires, in step with SESSION_LIFETIME_SECONDS). */
export function setSessionCookie(res: Response, session: string, lifetimeSeconds: number): void {
  res.cookie(SESSION_COOKIE, session, { ...SESSION_COOKIE_OPTIONS, maxAge: lifetimeSeconds * 1000 });
}

export function clearSessionCookie(res: Response): void {
  res.clearCookie(SESSION_COOKIE, SESSION_COOKIE_OPTIONS);
}

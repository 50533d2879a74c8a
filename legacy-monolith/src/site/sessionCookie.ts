import type { CookieOptions, NextFunction, Request, Response } from 'express';
import type { SessionStore } from '@mythoughts/shared/stores/sessions';

/** The cookie that carries the opaque server-side session id (the `sessions` table). */
const SESSION_COOKIE = 'session';

// HttpOnly keeps the id from page scripts; Lax stops it riding on cross-site POSTs.
const SESSION_COOKIE_OPTIONS: CookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' };

export function sessionIdOf(req: Request): string | undefined {
  const value: unknown = req.cookies?.[SESSION_COOKIE];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Looks up the session of the request's cookie and exposes its user as `res.locals.username`. */
export function loadSessionUser(sessions: SessionStore) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const session = sessionIdOf(req);
    // A session ended elsewhere (logout, or a newer login of the same user) finds no row: logged out.
    res.locals.username = session ? await sessions.username(session) : undefined;
    next();
  };
}

export function setSessionCookie(res: Response, session: string): void {
  res.cookie(SESSION_COOKIE, session, SESSION_COOKIE_OPTIONS);
}

export function clearSessionCookie(res: Response): void {
  res.clearCookie(SESSION_COOKIE, SESSION_COOKIE_OPTIONS);
}

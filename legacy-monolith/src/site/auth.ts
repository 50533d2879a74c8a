import type { Request, Router } from 'express';
import type { Monolith } from '../monolith.ts';
import type { Csrf } from './csrf.ts';
import { clearSessionCookie, sessionIdOf, setSessionCookie } from './sessionCookie.ts';
import type { Render } from './views.ts';

const LOGIN_FAILED = 'Invalid login/password, please try again.';

/** /login/ and /logout/: server-side sessions, one per user. */
export function addAuthRoutes(router: Router, { users, sessions, logger }: Monolith, csrf: Csrf, render: Render): void {
  router.get('/login/', (req, res) => {
    render(res, 'login.njk', { csrfToken: csrf.token(req, res), error: null, typedUsername: '' });
  });

  router.post('/login/', async (req, res) => {
    const username = formString(req, 'username');
    const password = formString(req, 'password');
    if (!(await users.checkPassword(username, password))) {
      render(res, 'login.njk', { csrfToken: csrf.token(req, res), error: LOGIN_FAILED, typedUsername: username });
      return;
    }
    // Starting a session ends the user's older one: logging in again logs out elsewhere.
    setSessionCookie(res, await sessions.start(username));
    logger.info({ username }, 'site login');
    res.redirect(302, '/');
  });

  router.get('/logout/', async (req, res) => {
    const session = sessionIdOf(req);
    if (session) await sessions.end(session);
    clearSessionCookie(res);
    res.redirect(302, '/login/');
  });
}

/** A field of the posted form; absent or repeated fields read as empty. */
export function formString(req: Request, name: string): string {
  const value: unknown = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

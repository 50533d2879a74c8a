import type { Request, Router } from 'express';
import { clientAddress } from '@mythoughts/shared/http/api';
import { lockedMessage } from '../loginGuard.ts';
import type { Monolith } from '../monolith.ts';
import type { Csrf } from './csrf.ts';
import { clearSessionCookie, sessionIdOf, setSessionCookie } from './sessionCookie.ts';
import type { Render } from './views.ts';

const LOGIN_FAILED = 'Invalid login/password, please try again.';

/** /login/ and /logout/: server-side sessions, one per user. */
export function addAuthRoutes(router: Router, { models, tryLogin, sessionLifetimeSeconds, logger }: Monolith, csrf: Csrf, render: Render): void {
  router.get('/login/', (req, res) => {
    render(res, 'login.njk', { csrfToken: csrf.token(req, res), error: null, typedUsername: '' });
  });

  router.post('/login/', async (req, res) => {
    const username = formString(req, 'username');
    const password = formString(req, 'password');
    // Counted with the API's logins (monolith and users service): one budget of guesses per username and address.
    const result = await tryLogin(username, password, clientAddress(req));
    if (result.kind === 'locked') {
      res.setHeader('Retry-After', String(result.retryAfter));
      const error = lockedMessage(result.retryAfter);
      render(res, 'login.njk', { csrfToken: csrf.token(req, res), error, typedUsername: username }, 429);
      return;
    }
    if (result.kind === 'wrong') {
      render(res, 'login.njk', { csrfToken: csrf.token(req, res), error: LOGIN_FAILED, typedUsername: username });
      return;
    }
    // Starting a session ends the user's older one: logging in again logs out elsewhere.
    setSessionCookie(res, await models.openSession(username, sessionLifetimeSeconds), sessionLifetimeSeconds);
    logger.info({ username }, 'site login');
    res.redirect(302, '/');
  });

  router.get('/logout/', async (req, res) => {
    const session = sessionIdOf(req);
    if (session) await models.closeSession(session);
    clearSessionCookie(res);
    res.redirect(302, '/login/');
  });
}

/** A field of the posted form; absent or repeated fields read as empty. */
export function formString(req: Request, name: string): string {
  const value: unknown = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

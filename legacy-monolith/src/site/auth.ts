import type { Request, Router } from 'express';
import { clientAddress } from '@mythoughts/shared/http/api';
import { loginThrottledMessage } from '@mythoughts/shared/http/fields';
import type { Monolith } from '../monolith.ts';
import type { Csrf } from './csrf.ts';
import { clearSessionCookie, sessionIdOf, setSessionCookie } from './sessionCookie.ts';
import type { Render } from './views.ts';

const LOGIN_FAILED = 'Invalid login/password, please try again.';

/** /login/ and /logout/: server-side sessions, one per user. */
export function addAuthRoutes(router: Router, { users, sessions, loginThrottle, logger }: Monolith, csrf: Csrf, render: Render): void {
  router.get('/login/', (req, res) => {
    render(res, 'login.njk', { csrfToken: csrf.token(req, res), error: null, typedUsername: '' });
  });

  router.post('/login/', async (req, res) => {
    const username = formString(req, 'username');
    const password = formString(req, 'password');
    // Counted with the API's logins (monolith and users service): one budget of guesses per username and address.
    const verdict = await loginThrottle.attempt(username, clientAddress(req), () => users.checkPassword(username, password));
    if (verdict.outcome === 'throttled') {
      res.setHeader('Retry-After', String(verdict.retryAfterSeconds));
      const error = loginThrottledMessage(verdict.retryAfterSeconds);
      render(res, 'login.njk', { csrfToken: csrf.token(req, res), error, typedUsername: username }, 429);
      return;
    }
    if (verdict.outcome === 'wrong') {
      render(res, 'login.njk', { csrfToken: csrf.token(req, res), error: LOGIN_FAILED, typedUsername: username });
      return;
    }
    // Starting a session ends the user's older one: logging in again logs out elsewhere.
    setSessionCookie(res, await sessions.start(username), sessions.lifetimeSeconds);
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

import { ApiError, apiRoute, apiRouter, clientAddress, MESSAGES, readFields, sendJson } from '../http/api.ts';
import { LOGIN_FIELDS, loginThrottled, MAX_USERNAME_LENGTH, NEW_USER_FIELDS, usernameTaken, usernameTooLong } from '../http/fields.ts';
import type { LoginThrottle } from '../stores/loginThrottle.ts';
import type { UserStore } from '../stores/users.ts';
import type { TokenSigner } from '@mythoughts/runtime/tokens';

/*
 * The users part of the public API (contract §3), written once: the monolith and the users
 * service mount these same handlers, so they cannot drift apart. What differs between them is
 * packaging (process, OpenAPI document, validation, Swagger UI), not behaviour.
 */

/** Mounted at `/api`: POST /api/login/. */
export function loginRoutes({ users, signer, loginThrottle }: { users: UserStore; signer: TokenSigner; loginThrottle: LoginThrottle }) {
  const router = apiRouter();
  apiRoute(router, '/login/', {
    async POST(req, res) {
      const { username, password } = readFields(req, LOGIN_FIELDS) as { username: string; password: string };
      const verdict = await loginThrottle.attempt(username, clientAddress(req), () => users.checkPassword(username, password));
      if (verdict.outcome === 'throttled') throw loginThrottled(verdict.retryAfterSeconds);
      // One answer for an unknown user and a wrong password, so the API does not tell which names exist.
      if (verdict.outcome === 'wrong') throw new ApiError(401, { message: MESSAGES.unauthorized });
      // Exactly one key: clients (and the gateway's shadow comparison) rely on the shape.
      sendJson(res, 200, { Authorized: `Bearer ${signer.sign(username)}` });
    },
  });
  return router;
}

/** Mounted at `/admin` (internal: the gateway keeps it off the public port): POST /admin/users/. */
export function userAdminRoutes({ users }: { users: UserStore }) {
  const router = apiRouter();
  apiRoute(router, '/users/', {
    async POST(req, res) {
      const { username, password } = readFields(req, NEW_USER_FIELDS) as { username: string; password: string };
      // Counted in characters (code points), like the column, not UTF-16 units.
      if ([...username].length > MAX_USERNAME_LENGTH) throw usernameTooLong();
      const user = await users.create(username, password);
      if (!user) throw usernameTaken(username);
      // Built key by key so that the password hash can never slip into the answer.
      sendJson(res, 201, { id: user.id, username: user.username, creation: user.creation });
    },
  });
  return router;
}

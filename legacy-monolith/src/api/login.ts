import { ApiError, apiRoute, apiRouter, MESSAGES, readFields, sendJson } from '@mythoughts/shared/http/api';
import { LOGIN_FIELDS } from '@mythoughts/shared/http/fields';
import type { Monolith } from '../monolith.ts';

/** POST /api/login/: a bearer token for valid credentials. */
export function loginRoutes({ users, signer }: Monolith) {
  const router = apiRouter();
  apiRoute(router, '/login/', {
    async POST(req, res) {
      const { username, password } = readFields(req, LOGIN_FIELDS) as { username: string; password: string };
      if (!(await users.checkPassword(username, password))) {
        throw new ApiError(401, { message: MESSAGES.unauthorized });
      }
      sendJson(res, 200, { Authorized: `Bearer ${signer.sign(username)}` });
    },
  });
  return router;
}

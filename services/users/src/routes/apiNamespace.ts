import { ApiError, apiRoute, apiRouter, MESSAGES, readFields, sendJson } from '@mythoughts/shared/http/api';
import { LOGIN_FIELDS } from '@mythoughts/shared/http/fields';
import type { UserStore } from '@mythoughts/shared/stores/users';
import type { TokenSigner } from '@mythoughts/shared/tokens';

/** The public `api` namespace of the users service, mounted at `/api`: POST /api/login/. */
export function apiNamespace({ users, signer }: { users: UserStore; signer: TokenSigner }) {
  const router = apiRouter();
  apiRoute(router, '/login/', {
    async POST(req, res) {
      const { username, password } = readFields(req, LOGIN_FIELDS) as { username: string; password: string };
      // One answer for an unknown user and a wrong password, so the API does not tell which names exist.
      if (!(await users.checkPassword(username, password))) {
        throw new ApiError(401, { message: MESSAGES.unauthorized });
      }
      // Exactly one key: clients (and the gateway's shadow comparison) rely on the shape.
      sendJson(res, 200, { Authorized: `Bearer ${signer.sign(username)}` });
    },
  });
  return router;
}

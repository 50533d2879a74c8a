import { apiRoute, apiRouter, readFields, sendJson } from '@mythoughts/shared/http/api';
import {
  MAX_USERNAME_LENGTH,
  NEW_USER_FIELDS,
  usernameTaken,
  usernameTooLong,
} from '@mythoughts/shared/http/fields';
import type { UserStore } from '@mythoughts/shared/stores/users';

/**
 * The internal `admin` namespace of the users service, mounted at `/admin`: POST /admin/users/.
 * It has no auth of its own; the gateway keeps `/admin` off the public port.
 */
export function adminNamespace({ users }: { users: UserStore }) {
  const router = apiRouter();
  apiRoute(router, '/users/', {
    async POST(req, res) {
      const { username, password } = readFields(req, NEW_USER_FIELDS) as { username: string; password: string };
      // Counted in characters (code points), like the column and the monolith, not UTF-16 units.
      if ([...username].length > MAX_USERNAME_LENGTH) throw usernameTooLong();
      const user = await users.create(username, password);
      if (!user) throw usernameTaken(username);
      // Built key by key so that the password hash can never slip into the answer.
      sendJson(res, 201, { id: user.id, username: user.username, creation: user.creation });
    },
  });
  return router;
}

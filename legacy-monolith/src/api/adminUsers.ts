import { apiRoute, apiRouter, readFields, sendJson } from '@mythoughts/shared/http/api';
import {
  MAX_USERNAME_LENGTH,
  NEW_USER_FIELDS,
  usernameTaken,
  usernameTooLong,
} from '@mythoughts/shared/http/fields';
import type { Monolith } from '../monolith.ts';

/** POST /admin/users/: creates a user (internal only; never returns the password). */
export function adminUsersRoutes({ users }: Monolith) {
  const router = apiRouter();
  apiRoute(router, '/users/', {
    async POST(req, res) {
      const { username, password } = readFields(req, NEW_USER_FIELDS) as { username: string; password: string };
      if ([...username].length > MAX_USERNAME_LENGTH) throw usernameTooLong();
      const user = await users.create(username, password);
      if (!user) throw usernameTaken(username);
      sendJson(res, 201, { id: user.id, username: user.username, creation: user.creation });
    },
  });
  return router;
}

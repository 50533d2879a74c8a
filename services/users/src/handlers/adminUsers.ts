import { ApiError, apiRoute, apiRouter, invalidField, readFields, sendJson, type Field } from '@mythoughts/shared/http/api';
import type { UserStore } from '../stores/userStore.ts';

/** The `Credentials` schema of openapi.yaml (createUser), in the order the fields are read. */
const NEW_USER: readonly Field[] = [
  { name: 'username', help: 'Username' },
  { name: 'password', help: 'Password' },
];

/** `users.username`'s length (and `User.username`'s maxLength), in characters. */
const MAX_USERNAME_CHARACTERS = 50;

/** Mounted at `/admin` (internal: the gateway keeps it off the public port): POST /admin/users/ (createUser). */
export function adminUsersRoutes({ users }: { users: UserStore }) {
  const router = apiRouter();
  apiRoute(router, '/users/', {
    async POST(req, res) {
      const { username, password } = readFields(req, NEW_USER) as { username: string; password: string };
      // Counted in characters (code points), like the column, not UTF-16 units.
      if ([...username].length > MAX_USERNAME_CHARACTERS) {
        throw invalidField('username', `Username must be at most ${MAX_USERNAME_CHARACTERS} characters`);
      }
      const user = await users.create(username, password);
      if (!user) throw new ApiError(409, { message: `Username "${username}" is already taken` });
      // Built key by key so that the password hash can never slip into the answer.
      sendJson(res, 201, { id: user.id, username: user.username, creation: user.creation });
    },
  });
  return router;
}

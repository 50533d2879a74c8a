import { ApiError, apiRoute, apiRouter, clientAddress, MESSAGES, readFields, sendJson, type Field } from '@mythoughts/shared/http/api';
import type { TokenSigner } from '@mythoughts/runtime/tokens';
import type { LoginThrottle } from '../stores/loginThrottle.ts';
import type { UserStore } from '../stores/userStore.ts';

/** The `Credentials` schema of openapi.yaml (login): both required, read in this order (the first missing one is named). */
const CREDENTIALS: readonly Field[] = [
  { name: 'username', help: 'Username' },
  { name: 'password', help: 'Password' },
];

/** Mounted at `/api`: POST /api/login/ (operation login), the bearer token for valid credentials. */
export function loginRoutes({ users, signer, loginThrottle }: { users: UserStore; signer: TokenSigner; loginThrottle: LoginThrottle }) {
  const router = apiRouter();
  apiRoute(router, '/login/', {
    async POST(req, res) {
      const { username, password } = readFields(req, CREDENTIALS) as { username: string; password: string };
      const verdict = await loginThrottle.attempt(username, clientAddress(req), () => users.checkPassword(username, password));
      if (verdict.outcome === 'throttled') {
        const seconds = verdict.retryAfterSeconds;
        const message = `Too many failed logins for this username or from this address: try again in ${seconds} seconds`;
        throw new ApiError(429, { message }, { 'Retry-After': String(seconds) });
      }
      // One answer for an unknown user and a wrong password, so the API does not tell which names exist.
      if (verdict.outcome === 'wrong') throw new ApiError(401, { message: MESSAGES.unauthorized });
      // Exactly one key: clients (and the gateway's shadow comparison) rely on the shape.
      sendJson(res, 200, { Authorized: `Bearer ${signer.sign(username)}` });
    },
  });
  return router;
}

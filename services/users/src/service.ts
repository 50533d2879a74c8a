import { ConfigError } from '@mythoughts/runtime/errors';
import { addDocumentedApi } from '@mythoughts/shared/http/openapi';
import type { ServiceSpec } from '@mythoughts/shared/http/service';
import { loginRoutes, userAdminRoutes } from '@mythoughts/shared/api/users';
import { LoginThrottle } from '@mythoughts/shared/stores/loginThrottle';
import { UserStore } from '@mythoughts/shared/stores/users';
import { createTokenSigner } from '@mythoughts/runtime/tokens';

/** The users back end: login (it signs the tokens) and user administration. */
export const usersService: ServiceSpec = {
  name: 'users',
  portVariable: 'USERS_PORT',
  defaultPort: 8002,
  needsPrivateKey: true,
  addRoutes(app, { config, database, logger }) {
    const { privateKeyPem } = config.keys;
    // loadServiceConfig already refuses to start without it (needsPrivateKey); this narrows the type.
    if (!privateKeyPem) throw new ConfigError('the users service signs tokens: set JWT_PRIVATE_KEY_FILE');
    const users = new UserStore(database.db);
    const signer = createTokenSigner(privateKeyPem);
    addDocumentedApi(app, logger, {
      documentFile: new URL('./openapi.yaml', import.meta.url),
      routers: [
        ['/api', loginRoutes({ users, signer, loginThrottle: new LoginThrottle(database.db, config.login) })],
        ['/admin', userAdminRoutes({ users })],
      ],
    });
  },
};

import { ConfigError } from '@mythoughts/runtime/errors';
import { addDocumentedApi } from '@mythoughts/shared/http/openapi';
import type { ServiceSpec } from '@mythoughts/shared/http/service';
import { createTokenSigner } from '@mythoughts/runtime/tokens';
import { adminUsersRoutes } from './handlers/adminUsers.ts';
import { loginRoutes } from './handlers/login.ts';
import { LoginThrottle } from './stores/loginThrottle.ts';
import { UserStore } from './stores/userStore.ts';

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
    // The service refuses to start unless these routers serve exactly the document's operations.
    addDocumentedApi(app, logger, {
      documentFile: new URL('./openapi.yaml', import.meta.url),
      routers: [
        ['/api', loginRoutes({ users, signer, loginThrottle: new LoginThrottle(database.db, config.login) })],
        ['/admin', adminUsersRoutes({ users })],
      ],
    });
  },
};

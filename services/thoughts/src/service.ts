import { addDocumentedApi } from '@mythoughts/shared/http/openapi';
import type { ServiceSpec } from '@mythoughts/shared/http/service';
import { thoughtAdminRoutes, thoughtsRoutes } from '@mythoughts/shared/api/thoughts';
import { ThoughtStore } from '@mythoughts/shared/stores/thoughts';
import { createTokenVerifier } from '@mythoughts/runtime/tokens';

/** The thoughts back end: reading, searching, posting and deleting thoughts. It only verifies tokens. */
export const thoughtsService: ServiceSpec = {
  name: 'thoughts',
  portVariable: 'THOUGHTS_PORT',
  defaultPort: 8003,
  needsPrivateKey: false,
  addRoutes(app, { config, database, logger }) {
    const thoughts = new ThoughtStore(database.db);
    const verifier = createTokenVerifier(config.keys.publicKeyPem);
    addDocumentedApi(app, logger, {
      documentFile: new URL('./openapi.yaml', import.meta.url),
      routers: [
        ['/api', thoughtsRoutes({ thoughts, verifier })],
        ['/admin', thoughtAdminRoutes({ thoughts })],
      ],
    });
  },
};

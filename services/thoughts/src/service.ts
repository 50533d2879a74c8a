import { addDocumentedApi } from '@mythoughts/shared/http/openapi';
import type { ServiceSpec } from '@mythoughts/shared/http/service';
import { createTokenVerifier } from '@mythoughts/runtime/tokens';
import { adminThoughtsRoutes } from './handlers/adminThoughts.ts';
import { myThoughtsRoutes } from './handlers/myThoughts.ts';
import { thoughtsRoutes } from './handlers/thoughts.ts';
import { ThoughtStore } from './stores/thoughtStore.ts';

/** The thoughts back end: reading, searching, posting and deleting thoughts. It only verifies tokens. */
export const thoughtsService: ServiceSpec = {
  name: 'thoughts',
  portVariable: 'THOUGHTS_PORT',
  defaultPort: 8003,
  needsPrivateKey: false,
  addRoutes(app, { config, database, logger }) {
    const thoughts = new ThoughtStore(database.db);
    const verifier = createTokenVerifier(config.keys.publicKeyPem);
    // The service refuses to start unless these routers serve exactly the document's operations.
    addDocumentedApi(app, logger, {
      documentFile: new URL('./openapi.yaml', import.meta.url),
      routers: [
        ['/api', myThoughtsRoutes({ thoughts, verifier })],
        ['/api', thoughtsRoutes({ thoughts })],
        ['/admin', adminThoughtsRoutes({ thoughts })],
      ],
    });
  },
};

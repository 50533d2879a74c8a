import type { ServiceSpec } from '@mythoughts/shared/http/service';
import { addApiRoutes } from './api/index.ts';
import { createMonolith } from './monolith.ts';
import { addSiteRoutes } from './site/index.ts';

/** The legacy Django monolith re-created: the JSON API of its mobile app and the HTML site. */
export const monolithService: ServiceSpec = {
  name: 'legacy-monolith',
  portVariable: 'LEGACY_PORT',
  defaultPort: 8001,
  needsPrivateKey: true,
  addRoutes(app, context) {
    const monolith = createMonolith(context);
    // The API first: its routers answer every /api and /admin path themselves (JSON 404s),
    // so the site's HTML pages and CSRF checks never see them.
    addApiRoutes(app, monolith);
    addSiteRoutes(app, monolith);
  },
};

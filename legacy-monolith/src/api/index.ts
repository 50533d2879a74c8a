import express, { type Express } from 'express';
import { apiBodyParsers, apiErrorHandler, apiNotFound, apiRoute, apiRouter } from '@mythoughts/shared/http/api';
import type { Monolith } from '../monolith.ts';
import { apiViews } from './views.ts';

/**
 * The monolith's URL table for the JSON API of contract §3: `/api` (public) and `/admin`
 * (internal: the gateway keeps it off the public port). Each prefix ends in the JSON 404 and
 * the JSON error handler, so no API request ever gets an HTML answer.
 */
export function addApiRoutes(app: Express, monolith: Monolith): void {
  const views = apiViews(monolith);

  const api = apiRouter();
  apiRoute(api, '/login/', { POST: views.login });
  apiRoute(api, '/me/thoughts/', { GET: views.myThoughts, POST: views.shareThought });
  apiRoute(api, '/thoughts/', { GET: views.allThoughts });
  apiRoute(api, '/thoughts/:id/', { GET: views.thoughtDetail });

  const admin = apiRouter();
  apiRoute(admin, '/users/', { POST: views.createUser });
  apiRoute(admin, '/thoughts/:id/', { DELETE: views.deleteThought });

  app.use('/api', withConventions(api, monolith));
  app.use('/admin', withConventions(admin, monolith));
}

function withConventions(routes: express.Router, { logger }: Monolith): express.Router {
  const prefix = express.Router({ strict: true, caseSensitive: true });
  prefix.use(...apiBodyParsers(), routes, apiNotFound, apiErrorHandler(logger));
  return prefix;
}

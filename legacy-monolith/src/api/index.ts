import express, { type Express } from 'express';
import { apiBodyParsers, apiErrorHandler, apiNotFound } from '@mythoughts/shared/http/api';
import type { Monolith } from '../monolith.ts';
import { thoughtAdminRoutes, thoughtsRoutes } from '@mythoughts/shared/api/thoughts';
import { loginRoutes, userAdminRoutes } from '@mythoughts/shared/api/users';

/**
 * The JSON API of contract §3 under `/api` (public) and `/admin` (internal: the gateway keeps
 * it off the public port), from the same handlers the new services mount (shared/api). Each prefix ends in the JSON 404 and the JSON error handler, so no
 * API request ever gets an HTML answer.
 */
export function addApiRoutes(app: Express, monolith: Monolith): void {
  app.use('/api', apiPrefix([loginRoutes(monolith), thoughtsRoutes(monolith)], monolith));
  app.use('/admin', apiPrefix([userAdminRoutes(monolith), thoughtAdminRoutes(monolith)], monolith));
}

function apiPrefix(routers: express.Router[], { logger }: Monolith): express.Router {
  const prefix = express.Router({ strict: true, caseSensitive: true });
  prefix.use(...apiBodyParsers(), ...routers, apiNotFound, apiErrorHandler(logger));
  return prefix;
}

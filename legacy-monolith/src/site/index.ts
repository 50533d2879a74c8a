import express, { type Express } from 'express';
import cookieParser from 'cookie-parser';
import { verifyBodyEncoding } from '@mythoughts/shared/http/encoding';
import type { Monolith } from '../monolith.ts';
import { addAuthRoutes } from './auth.ts';
import { createCsrf } from './csrf.ts';
import { pageNotFound, sitePageError } from './errorPages.ts';
import { addSlashRedirects } from './redirects.ts';
import { addSearchRoutes } from './search.ts';
import { loadSessionUser } from './sessionCookie.ts';
import { addStylesheetRoute } from './stylesheet.ts';
import { addThoughtRoutes } from './thoughts.ts';
import { createViews, pageRenderer } from './views.ts';

/** The HTML site of contract §4: login, own thoughts, sharing, search, logout. */
export function addSiteRoutes(app: Express, monolith: Monolith): void {
  const render = pageRenderer(createViews());
  const csrf = createCsrf(monolith.privateKeyPem);
  const site = express.Router({ strict: true, caseSensitive: true });

  addStylesheetRoute(site);
  site.use(
    cookieParser(),
    // Forms in valid UTF-8 only: a damaged thought is refused (400 page), never stored.
    express.urlencoded({ extended: false, limit: '16kb', verify: verifyBodyEncoding }),
    // Every form POST of the site, whatever its path, needs a valid token.
    csrf.protect,
    loadSessionUser(monolith.models),
  );
  addSlashRedirects(site, ['/login', '/thoughts', '/logout']);
  addAuthRoutes(site, monolith, csrf, render);
  addThoughtRoutes(site, monolith, csrf, render);
  addSearchRoutes(site, monolith, render);
  site.use(pageNotFound(render));
  site.use(sitePageError(render, monolith.logger));
  app.use(site);
}

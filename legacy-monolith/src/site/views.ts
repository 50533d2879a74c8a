import type { Request, Response } from 'express';
import nunjucks from 'nunjucks';
import { fileURLToPath } from 'node:url';
import { htmlDatetimeFilter, thoughtDateFilter } from './dates.ts';

const VIEWS_DIR = fileURLToPath(new URL('../../views', import.meta.url));

/** The site's templates: autoescaped, so a thought's `<script>` is shown, never run. */
export function createViews(): nunjucks.Environment {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(VIEWS_DIR), {
    autoescape: true,
    // A misspelt variable in a template is a bug to see in tests, not an empty string.
    throwOnUndefined: true,
  });
  env.addFilter('thoughtDate', thoughtDateFilter);
  env.addFilter('htmlDatetime', htmlDatetimeFilter);
  return env;
}

export type Render = (res: Response, template: string, context?: Record<string, unknown>, status?: number) => void;

/**
 * Renders a page with what every page needs (the logged-in user for the navbar, the current
 * search for the search box) added to its own context.
 */
export function pageRenderer(views: nunjucks.Environment): Render {
  return (res, template, context = {}, status = 200) => {
    const req = res.req as Request;
    const html = views.render(template, {
      username: currentUser(res) ?? null,
      search: typeof req.query.search === 'string' ? req.query.search : '',
      ...context,
    });
    res.status(status).type('html').send(html);
  };
}

/** The logged-in user of this request, set by the session middleware. */
export function currentUser(res: Response): string | undefined {
  return res.locals.username as string | undefined;
}

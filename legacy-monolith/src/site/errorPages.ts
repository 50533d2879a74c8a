import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { isCsrfError } from './csrf.ts';
import type { Render } from './views.ts';

export function pageNotFound(render: Render) {
  return (_req: Request, res: Response) => {
    render(res, 'error.njk', { title: 'Page not found', detail: 'There is no page at this address.' }, 404);
  };
}

/** A bad CSRF token is a 403 page; anything else is a bug, logged with the request id. */
export function sitePageError(render: Render, logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (isCsrfError(error)) {
      render(
        res,
        'error.njk',
        {
          title: 'Forbidden',
          detail: 'The form was missing its security token or the token had expired. Go back, reload the page and try again.',
        },
        403,
      );
      return;
    }
    const status = (error as { status?: unknown } | null)?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // A request the body parser refused (malformed or too large): the client's mistake, not ours.
      render(res, 'error.njk', { title: 'Bad request', detail: (error as Error).message }, status);
      return;
    }
    logger.error({ err: error, reqId: (req as Request & { id?: string }).id }, 'site: unhandled error');
    if (res.headersSent) return;
    res.status(500).type('text').send('The server encountered an internal error and was unable to complete your request.');
  };
}

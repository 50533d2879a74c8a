import type { NextFunction, Request, Response } from 'express';
import { requestIdOf } from '@mythoughts/runtime/http/requestId';

const REQUEST_ID_HEADER = 'x-request-id';

/** Keeps or generates `X-Request-ID`, exposes it as `req.id` and echoes it in the response. */
export function requestId() {
  return (req: Request, res: Response, next: NextFunction) => {
    const id = requestIdOf(req.headers[REQUEST_ID_HEADER]);
    (req as Request & { id: string }).id = id;
    res.setHeader('X-Request-ID', id);
    next();
  };
}

import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const REQUEST_ID_HEADER = 'x-request-id';

// A client-sent id is kept only if it is short and printable, so it cannot poison logs.
const ACCEPTABLE_ID = /^[\x21-\x7e]{1,200}$/;

/** The request's id: the one the client (or the gateway) sent, else a new uuid4. */
export function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && ACCEPTABLE_ID.test(value) ? value : randomUUID();
}

/** Keeps or generates `X-Request-ID`, exposes it as `req.id` and echoes it in the response. */
export function requestId() {
  return (req: Request, res: Response, next: NextFunction) => {
    const id = requestIdOf(req.headers[REQUEST_ID_HEADER]);
    (req as Request & { id: string }).id = id;
    res.setHeader('X-Request-ID', id);
    next();
  };
}

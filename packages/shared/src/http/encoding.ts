import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

/**
 * Text reaches the API only as valid UTF-8. Without these checks the body parser replaces
 * invalid bytes with U+FFFD and the store keeps the damaged text as if the client had sent it;
 * the client gets a 400 naming the problem instead, and nothing is stored. An unknown charset
 * is the body parser's 415 (`charset.unsupported`), answered by the API error handler.
 */

/** The error the body parser and the query check raise, answered as a 400 with its message. */
class InvalidEncodingError extends Error {
  readonly status = 400;
  readonly type = 'encoding.invalid';
}

/**
 * The body parsers' `verify` hook: the raw body must decode without a single replacement in
 * its charset (UTF-8 unless stated), and a form body's %-escapes must spell UTF-8 too.
 */
export function verifyBodyEncoding(req: IncomingMessage, _res: unknown, body: Buffer, charset: string | undefined): void {
  const encoding = charset || 'utf-8';
  if (!decodesCleanly(body, encoding)) {
    throw new InvalidEncodingError(`The request body is not valid ${encoding.toUpperCase()} (a byte sequence cannot be decoded): send the text as UTF-8`);
  }
  const form = /^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '');
  if (form && !percentEscapesAreUtf8(body.toString('latin1'))) {
    throw new InvalidEncodingError('The form body has %-escapes that are not valid UTF-8: encode every value as UTF-8 before %-escaping it');
  }
}

/** Middleware: a query string whose %-escapes are not UTF-8 is a 400 before any handler reads it. */
export function requireUtf8Query(req: Request, _res: Response, next: NextFunction): void {
  const start = req.originalUrl.indexOf('?');
  if (start === -1 || percentEscapesAreUtf8(req.originalUrl.slice(start + 1))) return next();
  next(new InvalidEncodingError('The query string has %-escapes that are not valid UTF-8: encode every value as UTF-8 before %-escaping it'));
}

function decodesCleanly(body: Buffer, encoding: string): boolean {
  if (/^utf-?8$/i.test(encoding)) return isUtf8(body);
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(encoding, { fatal: true });
  } catch {
    return true; // a charset the platform's decoder does not know (utf-32): the body parser's own decoder reads it
  }
  try {
    decoder.decode(body);
    return true;
  } catch {
    return false;
  }
}

/**
 * True when every run of %-escapes decodes to valid UTF-8. A multi-byte character is one
 * unbroken run (`%C3%A9`), so checking run by run is exact; a `%` without two hex digits is
 * left alone, as the parsers leave it.
 */
function percentEscapesAreUtf8(text: string): boolean {
  for (const [run] of text.matchAll(/(?:%[0-9a-f]{2})+/gi)) {
    const bytes = Buffer.from(run.replace(/%/g, ''), 'hex');
    if (!isUtf8(bytes)) return false;
  }
  return true;
}

import { randomUUID } from 'node:crypto';

// A client-sent id is kept only if it is short and printable, so it cannot poison logs.
const ACCEPTABLE_ID = /^[\x21-\x7e]{1,200}$/;

/** The request's id: the one the client (or the gateway) sent in X-Request-ID, else a new uuid4. */
export function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && ACCEPTABLE_ID.test(value) ? value : randomUUID();
}

import type { IncomingMessage } from 'node:http';
import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';

// The HTTP semantic conventions name these methods as they are; any other becomes `_OTHER`
// (with the original beside it), so a client cannot invent span names or attribute values.
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'QUERY', 'TRACE']);

/** `http.request.method` (+ `_original` for an unknown one), as the conventions say. */
export function methodAttributes(method: string, attributes: Attributes): Attributes {
  if (KNOWN_METHODS.has(method)) attributes[ATTR_HTTP_REQUEST_METHOD] = method;
  else {
    attributes[ATTR_HTTP_REQUEST_METHOD] = '_OTHER';
    attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = method;
  }
  return attributes;
}

/** The span name's method part: the method, or `HTTP` for one the conventions do not know. */
export function spanMethod(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'HTTP';
}

/**
 * The HTTP server span's attributes known when a request arrives. The query string is left
 * out on purpose: it can carry passwords and tokens, and the access logs leave it out too.
 */
export function httpServerAttributes(req: IncomingMessage): Attributes {
  const target = req.url ?? '/';
  const queryAt = target.indexOf('?');
  const attributes: Attributes = {
    [ATTR_URL_PATH]: queryAt === -1 ? target : target.slice(0, queryAt),
    [ATTR_URL_SCHEME]: 'http',
    [ATTR_NETWORK_PROTOCOL_VERSION]: req.httpVersion,
  };
  methodAttributes(req.method ?? 'GET', attributes);
  const host = req.headers.host;
  if (host !== undefined && URL.canParse(`http://${host}`)) {
    const { hostname, port } = new URL(`http://${host}`);
    attributes[ATTR_SERVER_ADDRESS] = hostname;
    attributes[ATTR_SERVER_PORT] = port === '' ? 80 : Number(port);
  }
  if (req.socket.remoteAddress !== undefined) attributes[ATTR_CLIENT_ADDRESS] = req.socket.remoteAddress;
  const userAgent = req.headers['user-agent'];
  if (userAgent !== undefined) attributes[ATTR_USER_AGENT_ORIGINAL] = userAgent;
  return attributes;
}

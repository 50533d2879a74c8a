import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { CONTROL_HEADERS } from '../core/controlHeaders.ts';

// Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message: never forwarded.
// `expect` too: Node has already answered `100 Continue` to the client.
const REQUEST_HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'expect'];
const RESPONSE_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'te', 'trailer', 'upgrade', 'transfer-encoding']);
// A client may name any header in `Connection`; these it may not remove that way.
const PROTECTED = new Set(['host', 'content-length', 'transfer-encoding', 'x-request-id', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);
const UNTRUSTED_FORWARDING = ['x-forwarded-port', 'x-real-ip', 'forwarded'];

function stripConnectionTokens(headers: IncomingHttpHeaders): void {
  const connection = headers.connection;
  if (typeof connection !== 'string' || connection === '') return;
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '' && !PROTECTED.has(name) && headers[name] !== undefined) delete headers[name];
  }
}

function deleteAll(headers: IncomingHttpHeaders, names: readonly string[]): void {
  for (const name of names) {
    if (headers[name] !== undefined) delete headers[name];
  }
}

/**
 * Makes the client's request headers fit for the back end: hop-by-hop headers removed, the
 * request id set, and X-Forwarded-* written by the gateway. Client-sent X-Forwarded-* are
 * dropped (anyone can forge them) unless `trustForwarded` says a trusted proxy is in front.
 */
export function prepareRequestHeaders(req: IncomingMessage, requestId: string, trustForwarded: boolean): void {
  const headers = req.headers;
  stripConnectionTokens(headers);
  deleteAll(headers, REQUEST_HOP_BY_HOP);
  deleteAll(headers, CONTROL_HEADERS); // the gateway's own: never passed on
  headers['x-request-id'] = requestId;
  const client = req.socket.remoteAddress ?? '';
  if (trustForwarded) {
    const previous = headers['x-forwarded-for'];
    headers['x-forwarded-for'] = previous ? `${previous}, ${client}` : client;
    headers['x-forwarded-proto'] ??= 'http';
    if (headers.host !== undefined) headers['x-forwarded-host'] ??= headers.host;
    return;
  }
  deleteAll(headers, UNTRUSTED_FORWARDING);
  headers['x-forwarded-for'] = client;
  headers['x-forwarded-proto'] = 'http';
  if (headers.host !== undefined) headers['x-forwarded-host'] = headers.host;
  else if (headers['x-forwarded-host'] !== undefined) delete headers['x-forwarded-host'];
}

/**
 * The back end's response headers (flat `[name, value, …]`, as received) minus the hop-by-hop
 * ones and those its `Connection` names: Node frames the body to the client itself.
 */
export function stripResponseHopByHop(headers: readonly string[]): string[] {
  let named: Set<string> | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() !== 'connection') continue;
    for (const token of headers[i + 1]!.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '' && !PROTECTED.has(name)) (named ??= new Set()).add(name);
    }
  }
  const kept: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    if (RESPONSE_HOP_BY_HOP.has(name) || (named !== null && named.has(name))) continue;
    kept.push(headers[i]!, headers[i + 1]!);
  }
  return kept;
}

/** Whether a flat header list has `name` (lower case). */
export function hasHeader(headers: readonly string[], name: string): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.length === name.length && headers[i]!.toLowerCase() === name) return true;
  return false;
}

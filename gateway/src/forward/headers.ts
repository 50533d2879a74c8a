import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { CONTROL_HEADERS } from '../core/controlHeaders.ts';

// Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message: never forwarded.
// `expect` too: Node has already answered `100 Continue` to the client.
const REQUEST_HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'expect'];
const RESPONSE_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'te', 'trailer', 'upgrade', 'transfer-encoding']);
const HOP_BY_HOP_LENGTHS = new Set([...RESPONSE_HOP_BY_HOP].map((name) => name.length));
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
export function stripResponseHopByHop(headers: string[]): string[] {
  // Most answers carry none of these: find the first one before building a new list. Only
  // names of a hop-by-hop header's length are lower-cased (no string made for the others).
  let first = -1;
  let named: Set<string> | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (!HOP_BY_HOP_LENGTHS.has(name.length) && named === null) continue;
    const lower = name.toLowerCase();
    if (!RESPONSE_HOP_BY_HOP.has(lower) && (named === null || !named.has(lower))) continue;
    if (first === -1) first = i;
    if (lower === 'connection') named = connectionTokens(headers[i + 1]!, named);
  }
  if (first === -1) return headers;
  // Connection may name a header written before it: then every name is checked again.
  const start = named === null ? first : 0;
  const kept: string[] = headers.slice(0, start);
  for (let i = start; i < headers.length; i += 2) {
    const lower = headers[i]!.toLowerCase();
    if (RESPONSE_HOP_BY_HOP.has(lower) || (named !== null && named.has(lower))) continue;
    kept.push(headers[i]!, headers[i + 1]!);
  }
  return kept;
}

function connectionTokens(value: string, into: Set<string> | null): Set<string> | null {
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '' && !PROTECTED.has(name)) (into ??= new Set()).add(name);
  }
  return into;
}

/** Whether a flat header list has `name` (lower case). */
export function hasHeader(headers: readonly string[], name: string): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.length === name.length && headers[i]!.toLowerCase() === name) return true;
  return false;
}

/**
 * The request target as the gateway matches it and forwards it: percent-decoded once, dot
 * segments resolved, `//` collapsed, then re-encoded canonically. Matching and the back end
 * see this same path, so no trick (`//admin/`, `/api/../admin/`, `/%61dmin/`, `/admin%2F…`)
 * can make the gateway match one path while the back end serves another. Anything that
 * cannot be normalised without guessing is rejected (400), never passed through.
 */
export interface NormalisedTarget {
  readonly ok: true;
  /** Canonical path, original letter case (back ends route case-sensitively). */
  readonly path: string;
  /** `?…` exactly as received, or ''. */
  readonly query: string;
}

export interface PathRejection {
  readonly ok: false;
  readonly message: string;
}

const SLASH = 0x2f;
const PERCENT = 0x25;

// Characters kept as they are in a canonical path: RFC 3986 unreserved and sub-delims
// plus ':' and '@', except ';' (path parameters, which some servers strip: rejected).
const CANONICAL = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@") {
  CANONICAL[c.charCodeAt(0)] = 1;
}

const HEX_PAIR = /^[0-9a-fA-F]{2}$/;
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function reject(message: string): PathRejection {
  return { ok: false, message: `bad request path: ${message}` };
}

export function normaliseTarget(raw: string): NormalisedTarget | PathRejection {
  let start = 0;
  if (raw.charCodeAt(0) !== SLASH) {
    // Absolute-form targets (`GET http://host/path`) are legal HTTP/1.1 for proxies.
    const origin = ABSOLUTE_FORM.exec(raw);
    if (!origin) return reject('the request target must be a path starting with /');
    start = origin[0].length;
  }
  const queryAt = raw.indexOf('?', start);
  const end = queryAt === -1 ? raw.length : queryAt;
  const query = queryAt === -1 ? '' : raw.slice(queryAt);
  if (start === end) return { ok: true, path: '/', query };
  if (raw.charCodeAt(start) !== SLASH) return reject('the request target must be a path starting with /');
  if (isCanonical(raw, start, end)) return { ok: true, path: start === 0 && end === raw.length ? raw : raw.slice(start, end), query };
  return normaliseSlowly(raw.slice(start, end), query);
}

/** The common case, checked without allocating: nothing to decode, no dot segment, no `//`. */
function isCanonical(raw: string, start: number, end: number): boolean {
  let previous = 0;
  for (let i = start; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (c === SLASH) {
      if (previous === SLASH) return false;
    } else if (c >= 128 || CANONICAL[c] === 0) {
      return false;
    } else if (c === 0x2e /* . */ && previous === SLASH) {
      return false; // possibly a dot segment; the slow path decides
    }
    previous = c;
  }
  return true;
}

function normaliseSlowly(rawPath: string, query: string): NormalisedTarget | PathRejection {
  const rawSegments = rawPath.split('/');
  const last = rawSegments.length - 1;
  const segments: string[] = [];
  let trailingSlash = false;
  for (let i = 1; i <= last; i++) {
    const rawSegment = rawSegments[i]!;
    if (rawSegment === '') {
      trailingSlash = i === last;
      continue;
    }
    const decoded = decodeSegment(rawSegment);
    if (typeof decoded !== 'string') return decoded;
    if (decoded === '.' || decoded === '..') {
      // `..` above the root stays at the root, as browsers do.
      if (decoded === '..') segments.pop();
      trailingSlash = i === last;
      continue;
    }
    segments.push(encodeSegment(decoded));
    trailingSlash = false;
  }
  const path = '/' + segments.join('/') + (trailingSlash && segments.length > 0 ? '/' : '');
  return { ok: true, path, query };
}

function decodeSegment(raw: string): string | PathRejection {
  let bytes: number[] | undefined;
  let nonAscii = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === PERCENT) {
      const hex = raw.slice(i + 1, i + 3);
      if (!HEX_PAIR.test(hex)) return reject(`'%' must be followed by two hex digits in '${clip(raw)}'`);
      const byte = parseInt(hex, 16);
      const problem = forbiddenDecodedByte(byte);
      if (problem) return reject(problem);
      if (byte >= 0x80) nonAscii = true;
      bytes ??= rawBytes(raw, i);
      bytes.push(byte);
      i += 2;
      continue;
    }
    if (c >= 0x80) return reject('characters outside ASCII must be percent-encoded (UTF-8)');
    if (c < 0x20 || c === 0x7f) return reject('control characters are not allowed');
    if (c === 0x5c) return reject("'\\' is not allowed in a path (it would be read as '/' by some servers)");
    if (c === 0x3b) return reject("';' path parameters are not allowed");
    if (c === 0x23) return reject("'#' is not allowed in a request path");
    bytes?.push(c);
  }
  if (!bytes) return raw;
  if (!nonAscii) return String.fromCharCode(...bytes);
  try {
    // fatal: invalid and overlong UTF-8 (e.g. %C0%AF for '/') throw instead of becoming U+FFFD.
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return reject('percent-encoded bytes are not valid UTF-8');
  }
}

function forbiddenDecodedByte(byte: number): string | undefined {
  if (byte === SLASH) return "an encoded '/' (%2F) is not allowed inside a path segment";
  if (byte === 0x5c) return "an encoded '\\' (%5C) is not allowed in a path";
  if (byte === 0) return 'an encoded NUL (%00) is not allowed';
  if (byte < 0x20 || byte === 0x7f) return 'encoded control characters are not allowed';
  return undefined;
}

/** The bytes of `raw` before index `end` (ASCII, so one byte per character). */
function rawBytes(raw: string, end: number): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < end; i++) bytes.push(raw.charCodeAt(i));
  return bytes;
}

function encodeSegment(decoded: string): string {
  let canonical = true;
  for (let i = 0; i < decoded.length && canonical; i++) {
    const c = decoded.charCodeAt(i);
    canonical = c < 128 && CANONICAL[c] === 1;
  }
  if (canonical) return decoded;
  let out = '';
  for (const ch of decoded) {
    const c = ch.charCodeAt(0);
    out += c < 128 && CANONICAL[c] === 1 ? ch : encodeURIComponent(ch);
  }
  return out;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * Path patterns of routes.yaml, e.g. `/api/login/`, `/api/thoughts/*` (one segment) and
 * `/api/thoughts/**` (any depth).
 * - a segment is a literal, `*` (exactly one segment) or `**` (any number of segments,
 *   including none; only as the last segment);
 * - matching is case-insensitive and ignores a trailing slash, so `/api/login/` also takes
 *   `/api/login` (which the back ends answer with a 308 to the slashed URL).
 */
export type Segment = { readonly kind: 'literal'; readonly text: string } | { readonly kind: 'star' } | { readonly kind: 'rest' };

export interface Pattern {
  readonly text: string;
  readonly segments: readonly Segment[];
}

// RFC 3986 pchar without `%` (patterns match decoded, normalised paths) and without `;`,
// which the gateway never lets through.
const LITERAL_SEGMENT = /^[a-z0-9\-._~!$&'()+,=:@]+$/;

export function parsePattern(text: string): Pattern | { problem: string } {
  if (!text.startsWith('/')) return { problem: `'${text}' must start with '/', e.g. /api/thoughts/**` };
  const parts = text.slice(1).split('/');
  if (parts[parts.length - 1] === '') parts.pop(); // trailing slash: insignificant
  const segments: Segment[] = [];
  for (const [i, part] of parts.entries()) {
    if (part === '**') {
      if (i !== parts.length - 1) return { problem: `'${text}': '**' is only allowed as the last segment` };
      segments.push({ kind: 'rest' });
    } else if (part === '*') {
      segments.push({ kind: 'star' });
    } else if (part === '') {
      return { problem: `'${text}' has an empty segment ('//'); paths are matched after '//' is collapsed` };
    } else if (part === '.' || part === '..') {
      return { problem: `'${text}' has a '${part}' segment; paths are matched after dot segments are resolved` };
    } else if (part.includes('*')) {
      return { problem: `'${text}': wildcards must be whole segments ('*' or '**'), not part of '${part}'` };
    } else {
      const lower = part.toLowerCase();
      if (!LITERAL_SEGMENT.test(lower)) {
        return { problem: `'${text}': segment '${part}' may only contain letters, digits and - . _ ~ ! $ & ' ( ) + , = : @` };
      }
      segments.push({ kind: 'literal', text: lower });
    }
  }
  return { text, segments };
}

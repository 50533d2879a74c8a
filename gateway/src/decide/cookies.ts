/** The value of one cookie in a `Cookie` header, found without parsing the whole header. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  let from = 0;
  for (;;) {
    const at = header.indexOf(name, from);
    if (at === -1) return null;
    const equals = at + name.length;
    if (header.charCodeAt(equals) === 0x3d /* = */ && startsCookie(header, at)) {
      const end = header.indexOf(';', equals + 1);
      const value = header.slice(equals + 1, end === -1 ? header.length : end).trim();
      return value === '' ? null : value;
    }
    from = at + 1;
  }
}

/** True when `at` is the start of a cookie pair (start of header, or after `;` and spaces). */
function startsCookie(header: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && header.charCodeAt(i) === 0x20) i--;
  return i < 0 || header.charCodeAt(i) === 0x3b; /* ; */
}

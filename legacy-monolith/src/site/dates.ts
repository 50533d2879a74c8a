/**
 * The time of a thought as the Django site showed it: the template filter `date:"N j, Y, P"`
 * in UTC, e.g. `May 11, 1962, 9:53 a.m.`. Written by hand because no Intl locale gives
 * Django's AP-style months ("Sept.", "March") or its "a.m." / "noon" / "midnight".
 */

// Django's MONTHS_AP: abbreviated with a period only where AP style abbreviates.
const AP_MONTHS = ['Jan.', 'Feb.', 'March', 'April', 'May', 'June', 'July', 'Aug.', 'Sept.', 'Oct.', 'Nov.', 'Dec.'];

/** Django's `N j, Y, P` for the UTC fields of `date`. */
export function formatThoughtDate(date: Date): string {
  const month = AP_MONTHS[date.getUTCMonth()]!;
  const year = String(date.getUTCFullYear()).padStart(4, '0');
  return `${month} ${date.getUTCDate()}, ${year}, ${formatApTime(date.getUTCHours(), date.getUTCMinutes())}`;
}

/** Django's `P`: `9:53 a.m.`, `4 p.m.` (no `:00`), `noon`, `midnight`. */
export function formatApTime(hours: number, minutes: number): string {
  if (minutes === 0 && hours === 0) return 'midnight';
  if (minutes === 0 && hours === 12) return 'noon';
  const hour12 = hours % 12 || 12;
  const clock = minutes === 0 ? String(hour12) : `${hour12}:${String(minutes).padStart(2, '0')}`;
  return `${clock} ${hours < 12 ? 'a.m.' : 'p.m.'}`;
}

const STORED_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/**
 * A stored timestamp (`YYYY-MM-DDTHH:MM:SS[.ffffff]`, naive UTC, see shared timestamps.ts)
 * as a Date. Parsed by hand: `Date.parse` would read a zone-less string as local time.
 */
export function parseStoredTimestamp(text: string): Date {
  const match = STORED_TIMESTAMP.exec(text);
  if (!match) throw new Error(`not a stored timestamp (expected YYYY-MM-DDTHH:MM:SS[.ffffff]): "${text}"`);
  const [year, month, day, hours, minutes, seconds] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const millis = Math.floor(Number((match[7] ?? '0').padEnd(6, '0')) / 1000);
  // setUTCFullYear rather than Date.UTC, which would map years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hours, minutes, seconds, millis);
  return date;
}

/** The nunjucks filter: a stored timestamp as the site shows it. */
export function thoughtDateFilter(timestamp: string): string {
  return formatThoughtDate(parseStoredTimestamp(timestamp));
}

/** The nunjucks filter for `<time datetime>`: HTML wants a zone and at most 3 fraction digits. */
export function htmlDatetimeFilter(timestamp: string): string {
  return parseStoredTimestamp(timestamp).toISOString();
}

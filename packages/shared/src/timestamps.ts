/**
 * Timestamps are naive ISO-8601 UTC strings, `YYYY-MM-DDTHH:MM:SS[.ffffff]`, as Python's
 * `datetime.isoformat()` writes them: the fraction is left out when it is zero. They are
 * stored as text so that SQLite and PostgreSQL return byte-identical values.
 */
export function formatTimestamp(date: Date): string {
  const iso = date.toISOString(); // 2026-11-25T13:27:44.123Z
  const seconds = iso.slice(0, 19);
  const millis = date.getUTCMilliseconds();
  return millis === 0 ? seconds : `${seconds}.${String(millis * 1000).padStart(6, '0')}`;
}

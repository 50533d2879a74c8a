import { describe, expect, it } from 'vitest';
import { formatApTime, formatThoughtDate, parseStoredTimestamp } from '../src/site/dates.ts';

describe('thought dates (Django "N j, Y, P" in UTC)', () => {
  it('formats the seed timestamps as the original site did', () => {
    expect(formatThoughtDate(parseStoredTimestamp('1962-05-11T09:53:41'))).toBe('May 11, 1962, 9:53 a.m.');
    expect(formatThoughtDate(parseStoredTimestamp('1963-06-11T19:58:23'))).toBe('June 11, 1963, 7:58 p.m.');
  });

  it('uses AP-style month names', () => {
    const months = Array.from({ length: 12 }, (_, month) => formatThoughtDate(new Date(Date.UTC(2020, month, 3, 9, 5))).split(' ')[0]);
    expect(months).toEqual(['Jan.', 'Feb.', 'March', 'April', 'May', 'June', 'July', 'Aug.', 'Sept.', 'Oct.', 'Nov.', 'Dec.']);
  });

  it('writes noon, midnight and whole hours without ":00"', () => {
    expect(formatApTime(0, 0)).toBe('midnight');
    expect(formatApTime(12, 0)).toBe('noon');
    expect(formatApTime(16, 0)).toBe('4 p.m.');
    expect(formatApTime(0, 5)).toBe('12:05 a.m.');
    expect(formatApTime(12, 30)).toBe('12:30 p.m.');
    expect(formatApTime(23, 59)).toBe('11:59 p.m.');
  });

  it('reads stored timestamps as UTC, with or without a fraction', () => {
    expect(parseStoredTimestamp('2024-02-29T00:00:00.123456').toISOString()).toBe('2024-02-29T00:00:00.123Z');
    expect(formatThoughtDate(parseStoredTimestamp('2024-02-29T00:00:00'))).toBe('Feb. 29, 2024, midnight');
  });

  it('refuses a timestamp that is not in the stored format', () => {
    expect(() => parseStoredTimestamp('2024-02-29 10:00:00+00')).toThrow(/not a stored timestamp/);
  });
});

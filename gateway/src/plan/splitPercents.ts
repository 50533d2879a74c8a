import type { Route } from '../config/routeTable.ts';

/**
 * A route's effective split as people read it: percent per backend, the legacy backend
 * included (it holds whatever the new backends leave), in backend declaration order.
 */
export type SplitPercents = Readonly<Record<string, number>>;

/** The split a compiled route runs, in percent with the file's two-decimal resolution. */
export function splitOf(route: Route): SplitPercents {
  return Object.fromEntries(route.shares.map((share) => [share.backend.name, roundPercent(share.ratio * 100)]));
}

export function roundPercent(value: number): number {
  return Math.round(value * 100) / 100;
}

/** `thoughts 25%, legacy 75%`. */
/** A share (0..1) as people read it: `29.5%`, one decimal. */
export function formatShare(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10}%`;
}

export function formatSplit(split: SplitPercents): string {
  return Object.entries(split)
    .map(([backend, percent]) => `${backend} ${percent}%`)
    .join(', ');
}

export function sameSplit(a: SplitPercents, b: SplitPercents): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => (a[key] ?? 0) === (b[key] ?? 0));
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/**
 * A percent as a person types it: `25`, `25%`, `0.5`. Refuses, with the reason, what the
 * routes file would refuse: not a number, negative, above 100, more than two decimals.
 */
export function parsePercent(input: unknown, what: string): Parsed<number> {
  const text = typeof input === 'number' ? String(input) : typeof input === 'string' ? input.trim().replace(/%$/, '') : '';
  if (typeof input !== 'number' && typeof input !== 'string') return { ok: false, message: `${what} must be a number of percent from 0 to 100, e.g. 25` };
  if (!/^-?\d+(\.\d+)?$/.test(text)) return { ok: false, message: `${what}: '${String(input)}' is not a number; give a percent from 0 to 100, e.g. 25 or 2.5` };
  const value = Number(text);
  if (value < 0) return { ok: false, message: `${what}: ${text} is negative; a share is from 0 to 100 percent` };
  if (value > 100) return { ok: false, message: `${what}: ${text} is more than 100 percent` };
  if (Math.abs(value * 100 - Math.round(value * 100)) > 1e-9) {
    return { ok: false, message: `${what}: ${text} has more than two decimals; the split's resolution is 0.01 percent` };
  }
  return { ok: true, value };
}

/** `thoughts=25` (the CLI's BACKEND=PCT argument). */
export function parseShareArgument(argument: string): Parsed<{ backend: string; percent: number }> {
  const at = argument.indexOf('=');
  if (at <= 0) return { ok: false, message: `'${argument}' is not BACKEND=PERCENT, e.g. thoughts=25` };
  const backend = argument.slice(0, at).trim();
  const percent = parsePercent(argument.slice(at + 1), `the share of ${backend}`);
  return percent.ok ? { ok: true, value: { backend, percent: percent.value } } : percent;
}

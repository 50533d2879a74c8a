import type { Difference } from './difference.ts';
import { formatLocation, generalLocation, type IgnoreRule, type Segment } from '../core/jsonPath.ts';

/**
 * Structural difference of two parsed JSON documents: objects are compared by key (their key
 * order is irrelevant), lists item by item (order matters: a list served in another order is
 * a different answer), values by type and value. Locations covered by an ignore rule, and
 * everything beneath them, are skipped. Stops after `limit` differences.
 */
export function diffJson(primary: unknown, candidate: unknown, ignore: readonly IgnoreRule[], limit = 200): Difference[] {
  const found: Difference[] = [];
  walk(primary, candidate, [], ignore, found, limit);
  return found;
}

function walk(a: unknown, b: unknown, location: Segment[], ignore: readonly IgnoreRule[], found: Difference[], limit: number): void {
  if (found.length >= limit) return;
  if (ignore.some((rule) => rule.covers(location))) return;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      location.push(i);
      if (i >= b.length) record(found, location, 'missing', a[i], undefined, ignore);
      else if (i >= a.length) record(found, location, 'extra', undefined, b[i], ignore);
      else walk(a[i], b[i], location, ignore, found, limit);
      location.pop();
    }
    return;
  }
  if (isObject(a) && isObject(b)) {
    for (const key of Object.keys(a)) {
      location.push(key);
      if (Object.hasOwn(b, key)) walk(a[key], b[key], location, ignore, found, limit);
      else record(found, location, 'missing', a[key], undefined, ignore);
      location.pop();
    }
    for (const key of Object.keys(b)) {
      if (Object.hasOwn(a, key)) continue;
      location.push(key);
      record(found, location, 'extra', undefined, b[key], ignore);
      location.pop();
    }
    return;
  }
  if (!sameScalar(a, b)) found.push({ where: formatLocation(location), key: generalLocation(location), kind: 'changed', primary: a, candidate: b });
}

function record(
  found: Difference[],
  location: Segment[],
  kind: 'missing' | 'extra',
  primary: unknown,
  candidate: unknown,
  ignore: readonly IgnoreRule[],
): void {
  if (ignore.some((rule) => rule.covers(location))) return;
  found.push({ where: formatLocation(location), key: generalLocation(location), kind, ...(kind === 'missing' ? { primary } : { candidate }) });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Equal scalars; an object against a list or a scalar is a change of type, hence unequal. */
function sameScalar(a: unknown, b: unknown): boolean {
  if (typeof a === 'object' && a !== null) return false;
  return Object.is(a, b) || (a === 0 && b === 0);
}

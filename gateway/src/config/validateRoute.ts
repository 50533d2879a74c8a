import { isMap, type YAMLMap } from 'yaml';
import { parsePattern } from '../match/pattern.ts';
import { NAME, NAME_RULE, validateMethods } from './fields.ts';
import type { BackendNames, RouteConfig, SplitShare } from './routesConfig.ts';
import { validateRollout } from './validateRollout.ts';
import { validateShadow } from './validateShadow.ts';
import { join, type YamlReader } from './yamlReader.ts';

const ROUTE_KEYS = ['name', 'match', 'group', 'split', 'fallback', 'deny', 'shadow', 'rollout'] as const;
const MATCH_KEYS = ['path', 'methods', 'headers'] as const;
const PERCENT_RULE = 'a number of percent from 0 to 100 with at most two decimals, e.g. 25 or 0.5';

/** One entry of `routes:`. Returns undefined when the route is unusable (problems recorded). */
export function validateRoute(reader: YamlReader, node: unknown, index: number, backends: BackendNames): RouteConfig | undefined {
  let field = `routes[${index}]`;
  const map = reader.map(node, field, '{ name, match: { path }, split: {...} | deny: 404 }');
  if (!map) return undefined;
  // Name the route in every message about it, including unknown keys listed before `name:`.
  const written = map.get('name');
  if (typeof written === 'string' && NAME.test(written)) field = `routes[${index}] (${written})`;
  const entries = reader.knownEntries(map, field, ROUTE_KEYS);
  const nameEntry = entries.get('name');
  const name = nameEntry ? reader.string(nameEntry.value, join(field, 'name'), NAME_RULE) : undefined;
  if (!nameEntry) reader.report(map, join(field, 'name'), `is required: ${NAME_RULE}`);
  if (name !== undefined && !NAME.test(name)) reader.report(nameEntry!.value, join(field, 'name'), `'${name}' is not ${NAME_RULE}`);

  const matchEntry = entries.get('match');
  if (!matchEntry) reader.report(map, join(field, 'match'), 'is required: { path: /api/thoughts/** }');
  const match = matchEntry ? validateMatch(reader, matchEntry.value, join(field, 'match')) : undefined;

  const group = entries.has('group') ? reader.string(entries.get('group')!.value, join(field, 'group'), NAME_RULE) : name;
  const action = validateAction(reader, map, entries.get('split')?.value, entries.get('deny')?.value, field, backends);

  let fallback: string | null = null;
  const fallbackEntry = entries.get('fallback');
  if (fallbackEntry) {
    const written = reader.string(fallbackEntry.value, join(field, 'fallback'), 'a backend name');
    if (written !== undefined && !backends.all.includes(written)) {
      reader.report(fallbackEntry.value, join(field, 'fallback'), `unknown backend '${written}'; allowed: ${backends.all.join(', ')}`);
    } else if (written !== undefined && action?.kind === 'deny') {
      reader.report(fallbackEntry.value, join(field, 'fallback'), 'a deny route forwards nothing, so it cannot have a fallback');
    } else if (written !== undefined) {
      fallback = written;
    }
  }

  const shadowEntry = entries.get('shadow');
  const shadow = shadowEntry ? validateShadow(reader, shadowEntry.value, join(field, 'shadow'), backends) : null;
  if (shadowEntry && action?.kind === 'deny')
    reader.report(shadowEntry.value, join(field, 'shadow'), 'a deny route forwards nothing, so there is nothing to shadow');

  const rolloutEntry = entries.get('rollout');
  const rollout =
    rolloutEntry && action
      ? validateRollout(reader, rolloutEntry.value, join(field, 'rollout'), {
          shares: action.kind === 'split' ? action.shares : null,
          shadow: shadow ?? null,
          backends,
        })
      : null;

  if (name === undefined || !NAME.test(name) || !match || group === undefined || !action || shadow === undefined || rollout === undefined) return undefined;
  return { name, index, line: reader.lineOf(map), ...match, group, action, fallback, shadow, rollout };
}

function validateMatch(reader: YamlReader, node: unknown, field: string): Pick<RouteConfig, 'patterns' | 'methods' | 'headers'> | undefined {
  const map = reader.map(node, field, '{ path: /api/** , methods: [GET, POST], headers: { name: value } }');
  if (!map) return undefined;
  const entries = reader.knownEntries(map, field, MATCH_KEYS);
  const pathEntry = reader.required(entries, map, field, 'path', "a path pattern or a list of them, e.g. '/api/thoughts/**'");
  if (!pathEntry) return undefined;
  const patterns: RouteConfig['patterns'][number][] = [];
  let ok = true;
  for (const { value, node: item } of reader.strings(pathEntry.value, join(field, 'path'), 'a path pattern like /api/**') ?? []) {
    const pattern = parsePattern(value);
    if ('problem' in pattern) {
      reader.report(item, join(field, 'path'), `${pattern.problem}; '*' matches one segment, '**' (last) any number`);
      ok = false;
    } else {
      patterns.push({ ...pattern, line: reader.lineOf(item) });
    }
  }
  const methods = entries.has('methods') ? validateMethods(reader, entries.get('methods')!.value, join(field, 'methods')) : null;
  const headers = entries.has('headers') ? validateHeaders(reader, entries.get('headers')!.value, join(field, 'headers')) : null;
  if (!ok || patterns.length === 0 || methods === undefined || headers === undefined) return undefined;
  return { patterns, methods, headers };
}

function validateHeaders(reader: YamlReader, node: unknown, field: string): (readonly [string, string])[] | undefined {
  const map = reader.map(node, field, 'header name → exact value');
  if (!map) return undefined;
  const headers: [string, string][] = [];
  for (const entry of reader.entries(map, field)) {
    const value = reader.string(entry.value, join(field, entry.key), 'the exact header value to match (text)');
    if (!/^[A-Za-z0-9-]+$/.test(entry.key)) reader.report(entry.keyNode, join(field, entry.key), 'a header name has only letters, digits and -');
    else if (value !== undefined) headers.push([entry.key.toLowerCase(), value]);
  }
  return headers;
}

function validateAction(
  reader: YamlReader,
  route: YAMLMap,
  split: unknown,
  deny: unknown,
  field: string,
  backends: BackendNames,
): RouteConfig['action'] | undefined {
  if (split !== undefined && deny !== undefined) {
    reader.report(route, field, "has both 'split' and 'deny'; a route either forwards (split) or refuses (deny)");
    return undefined;
  }
  if (deny !== undefined) {
    const status = reader.number(deny, join(field, 'deny'), 'an HTTP status from 400 to 599, e.g. 404');
    if (status === undefined) return undefined;
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      reader.report(deny, join(field, 'deny'), `${status} is not allowed: an HTTP status from 400 to 599, e.g. 404`);
      return undefined;
    }
    return { kind: 'deny', status };
  }
  if (split === undefined) {
    reader.report(route, field, "needs 'split' (percent per backend, e.g. { thoughts: 10 }) or 'deny' (a status, e.g. 404)");
    return undefined;
  }
  return validateSplit(reader, split, join(field, 'split'), backends);
}

/**
 * `split: { thoughts: 25 }` — percent per new backend; whatever is left goes to the legacy
 * backend. Listing the legacy backend is allowed for clarity, but then the numbers must add
 * up to exactly 100, so the file never says something the gateway does not do.
 */
function validateSplit(reader: YamlReader, node: unknown, field: string, backends: BackendNames): RouteConfig['action'] | undefined {
  if (isMap(node) && node.items.length === 0) return { kind: 'split', shares: [] };
  const map = reader.map(node, field, 'backend name → percent, e.g. { thoughts: 25 }');
  if (!map) return undefined;
  const shares: SplitShare[] = [];
  let ok = true;
  let legacyPercent: number | undefined;
  for (const entry of reader.entries(map, field)) {
    const shareField = join(field, entry.key);
    if (!backends.all.includes(entry.key)) {
      reader.report(entry.keyNode, shareField, `unknown backend '${entry.key}'; allowed: ${backends.all.join(', ')} (declared under backends:)`);
      ok = false;
      continue;
    }
    const percent = reader.number(entry.value, shareField, PERCENT_RULE);
    if (percent === undefined) {
      ok = false;
    } else if (percent < 0 || percent > 100 || Math.abs(percent * 100 - Math.round(percent * 100)) > 1e-9) {
      reader.report(entry.value, shareField, `${percent} is not allowed: ${PERCENT_RULE}`);
      ok = false;
    } else if (entry.key === backends.legacy) {
      legacyPercent = percent;
    } else {
      shares.push({ backend: entry.key, percent });
    }
  }
  if (!ok) return undefined;
  const newTotal = shares.reduce((sum, share) => sum + Math.round(share.percent * 100), 0) / 100;
  if (newTotal > 100) {
    reader.report(
      map,
      field,
      `the new backends' shares add up to ${newTotal}%; at most 100 is allowed (the rest goes to ${backends.legacy ?? 'the legacy backend'})`,
    );
    return undefined;
  }
  if (legacyPercent !== undefined && Math.round((newTotal + legacyPercent) * 100) !== 10_000) {
    reader.report(
      map,
      field,
      `the shares add up to ${newTotal + legacyPercent}%, but when '${backends.legacy}' is listed they must add up to exactly 100 (it would get ${Math.round((100 - newTotal) * 100) / 100}); fix the numbers or leave '${backends.legacy}' out`,
    );
    return undefined;
  }
  return { kind: 'split', shares };
}

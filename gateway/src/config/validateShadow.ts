import { SAFE_METHODS } from '../core/httpMethods.ts';
import { IgnoreRule } from '../core/jsonPath.ts';
import { percentOf, validateMethods, wholeNumber } from './fields.ts';
import { SHADOW_DEFAULTS, type BackendNames, type ShadowConfig } from './routesConfig.ts';
import { join, type YamlReader } from './yamlReader.ts';

const SHADOW_KEYS = [
  'to',
  'percent',
  'methods',
  'allow_writes',
  'ignore',
  'headers',
  'max_in_flight',
  'timeout_ms',
  'max_body_bytes',
  'noise_percent',
] as const;
const HEADER_NAME = /^[a-z0-9-]+$/;

/**
 * `shadow: { to: thoughts, percent: 100, ignore: ['$[*].timestamp'] }` on a forwarding
 * route. Only safe methods are mirrored unless `allow_writes: true`: a mirrored POST is a
 * second write, and while both sides share one database it is a duplicate row.
 */
export function validateShadow(reader: YamlReader, node: unknown, field: string, backends: BackendNames): ShadowConfig | undefined {
  const map = reader.map(node, field, '{ to: <backend>, percent: 100, ignore: [$[*].timestamp] }');
  if (!map) return undefined;
  const entries = reader.knownEntries(map, field, SHADOW_KEYS);
  let ok = true;

  const toEntry = entries.get('to');
  const to = toEntry ? reader.string(toEntry.value, join(field, 'to'), 'a backend name') : undefined;
  if (!toEntry) reader.report(map, join(field, 'to'), `is required: the backend that gets the copies; one of ${backends.all.join(', ')}`);
  else if (to !== undefined && !backends.all.includes(to)) {
    reader.report(toEntry.value, join(field, 'to'), `unknown backend '${to}'; allowed: ${backends.all.join(', ')}`);
    ok = false;
  }

  const percent = percentOf(reader, entries.get('percent')?.value, join(field, 'percent'), SHADOW_DEFAULTS.percent);
  const noisePercent = percentOf(reader, entries.get('noise_percent')?.value, join(field, 'noise_percent'), SHADOW_DEFAULTS.noisePercent);
  const methodsEntry = entries.get('methods');
  const methods = methodsEntry ? validateMethods(reader, methodsEntry.value, join(field, 'methods')) : new Set<string>(SHADOW_DEFAULTS.methods);
  const allowWritesEntry = entries.get('allow_writes');
  const allowWrites = allowWritesEntry ? reader.boolean(allowWritesEntry.value, join(field, 'allow_writes')) : false;
  const writes = methods ? [...methods].filter((m) => !SAFE_METHODS.has(m)) : [];
  if (writes.length > 0 && allowWrites === false) {
    reader.report(
      methodsEntry!.value,
      join(field, 'methods'),
      `${writes.join(', ')} would be sent twice, once to each backend (a duplicate write while they share a database); ` +
        'add allow_writes: true only if the shadow backend writes somewhere harmless',
    );
    ok = false;
  }

  const ignore: IgnoreRule[] = [];
  const ignoreEntry = entries.get('ignore');
  for (const { value, node: item } of ignoreEntry
    ? (reader.strings(ignoreEntry.value, join(field, 'ignore'), 'a list of JSON paths, e.g. [$[*].timestamp]') ?? [])
    : []) {
    const rule = IgnoreRule.parse(value);
    if (rule instanceof IgnoreRule) ignore.push(rule);
    else {
      reader.report(item, join(field, 'ignore'), rule.error);
      ok = false;
    }
  }

  let headers: string[] = [...SHADOW_DEFAULTS.headers];
  const headersEntry = entries.get('headers');
  if (headersEntry) {
    headers = [];
    for (const { value, node: item } of reader.strings(headersEntry.value, join(field, 'headers'), 'a list of response header names to compare') ?? []) {
      if (HEADER_NAME.test(value.toLowerCase())) headers.push(value.toLowerCase());
      else {
        reader.report(item, join(field, 'headers'), `'${value}' is not a header name (letters, digits and '-')`);
        ok = false;
      }
    }
  }

  const maxInFlight = wholeNumber(
    reader,
    entries.get('max_in_flight')?.value,
    join(field, 'max_in_flight'),
    1,
    10_000,
    'shadow requests at once; more are skipped',
  );
  const timeoutMs = wholeNumber(reader, entries.get('timeout_ms')?.value, join(field, 'timeout_ms'), 1, 120_000, 'milliseconds for a whole shadow answer');
  const maxBodyBytes = wholeNumber(
    reader,
    entries.get('max_body_bytes')?.value,
    join(field, 'max_body_bytes'),
    0,
    16 * 1024 * 1024,
    'bytes of body mirrored and compared',
  );

  if (!ok || to === undefined || percent === undefined || noisePercent === undefined || methods === undefined || allowWrites === undefined) return undefined;
  return {
    to,
    percent,
    methods,
    ignore,
    headers,
    maxInFlight: maxInFlight ?? SHADOW_DEFAULTS.maxInFlight,
    timeoutMs: timeoutMs ?? SHADOW_DEFAULTS.timeoutMs,
    maxBodyBytes: maxBodyBytes ?? SHADOW_DEFAULTS.maxBodyBytes,
    noisePercent,
    line: reader.lineOf(map),
  };
}

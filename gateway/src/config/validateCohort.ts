import { DEFAULTS, type CohortConfig, type CohortKeySpec } from './routesConfig.ts';
import { join, type YamlReader } from './yamlReader.ts';

const COHORT_KEYS = ['keys', 'salt', 'override_header'] as const;
const KEY_RULE = "'jwt:username' or 'cookie:<name>'";
const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
const HEADER_NAME = /^[a-z0-9-]+$/;

/** `cohort:` — how a client is identified (first key present wins) and the hash salt. */
export function validateCohort(reader: YamlReader, node: unknown): CohortConfig {
  const defaults: CohortConfig = { keys: DEFAULTS.cohortKeys.map((text) => parseKey(text)!), salt: DEFAULTS.salt, overrideHeader: null };
  if (node === undefined) return defaults;
  const map = reader.map(node, 'cohort', '{ keys: [...], salt: <text> }');
  if (!map) return defaults;
  const entries = reader.knownEntries(map, 'cohort', COHORT_KEYS);

  let keys = defaults.keys;
  const keysEntry = entries.get('keys');
  if (keysEntry) {
    const written = reader.strings(keysEntry.value, 'cohort.keys', `a list of ${KEY_RULE}`) ?? [];
    const parsed: CohortKeySpec[] = [];
    written.forEach(({ value, node: item }, i) => {
      const key = parseKey(value);
      if (key) parsed.push(key);
      else reader.report(item, `cohort.keys[${i}]`, `'${value}' is not a cohort key; allowed: ${KEY_RULE}`);
    });
    if (written.length > 0 && parsed.length === 0) reader.report(keysEntry.value, 'cohort.keys', `needs at least one of ${KEY_RULE}`);
    keys = parsed;
  }

  const saltEntry = entries.get('salt');
  const salt = saltEntry ? reader.string(saltEntry.value, 'cohort.salt', 'a non-empty text (change it to re-deal every client)') : defaults.salt;

  let overrideHeader: string | null = null;
  const overrideEntry = entries.get('override_header');
  if (overrideEntry) {
    const header = reader.string(overrideEntry.value, join('cohort', 'override_header'), 'a header name, e.g. x-gateway-backend');
    if (header !== undefined && !HEADER_NAME.test(header.toLowerCase())) {
      reader.report(overrideEntry.value, 'cohort.override_header', `'${header}' is not a header name (letters, digits and '-')`);
    } else if (header !== undefined) {
      overrideHeader = header.toLowerCase();
    }
  }
  return { keys, salt: salt ?? defaults.salt, overrideHeader };
}

function parseKey(text: string): CohortKeySpec | undefined {
  if (text === 'jwt:username') return { kind: 'jwt', text };
  if (text.startsWith('cookie:')) {
    const name = text.slice('cookie:'.length);
    if (COOKIE_NAME.test(name)) return { kind: 'cookie', name, text };
  }
  return undefined;
}

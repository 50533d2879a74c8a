import { DEFAULTS, type CohortConfig, type CohortKeySpec } from './routesConfig.ts';
import { join, type YamlReader } from './yamlReader.ts';

const COHORT_KEYS = ['keys', 'salt', 'override_header'] as const;
const KEY_RULE = "'jwt:username' or 'cookie:gw_cohort'";

/** `cohort:` — how a client is identified (first key present wins) and the hash salt. */
export function validateCohort(reader: YamlReader, node: unknown): CohortConfig {
  const defaults: CohortConfig = { keys: DEFAULTS.cohortKeys.map((text) => parseKey(text)!), salt: DEFAULTS.salt };
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
      else if (value.startsWith('cookie:')) {
        // A cookie the gateway did not sign is whatever the client writes: `session=anything`
        // would let it pick its side (and try values until one lands where it wants).
        reader.report(
          item,
          `cohort.keys[${i}]`,
          `'${value}' cannot be a cohort key: the gateway cannot check that cookie, so any client could choose its side with an invented value; remove it (browsers keep their side through the gateway's own signed cookie:gw_cohort)`,
        );
      } else reader.report(item, `cohort.keys[${i}]`, `'${value}' is not a cohort key; allowed: ${KEY_RULE}`);
    });
    if (written.length > 0 && parsed.length === 0) reader.report(keysEntry.value, 'cohort.keys', `needs at least one of ${KEY_RULE}`);
    keys = parsed;
  }

  const saltEntry = entries.get('salt');
  const salt = saltEntry ? reader.string(saltEntry.value, 'cohort.salt', 'a non-empty text (change it to re-deal every client)') : defaults.salt;

  // The unsigned override header let any client pick a backend; it is gone, and a file that
  // still asks for it is refused with the way to the signed one rather than silently ignored.
  const overrideEntry = entries.get('override_header');
  if (overrideEntry) {
    reader.report(
      overrideEntry.keyNode,
      join('cohort', 'override_header'),
      'is no longer supported (any client could pick a backend): remove it; X-Gateway-Backend is honoured only with a signed token (GATEWAY_OVERRIDE_SECRET, gateway override-token) or the JWT of a user listed under testers:',
    );
  }
  return { keys, salt: salt ?? defaults.salt };
}

function parseKey(text: string): CohortKeySpec | undefined {
  if (text === 'jwt:username') return { kind: 'jwt', text };
  if (text === 'cookie:gw_cohort') return { kind: 'cookie', text };
  return undefined;
}

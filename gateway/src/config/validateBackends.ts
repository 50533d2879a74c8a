import { NAME, NAME_RULE } from './fields.ts';
import { DEFAULTS, type BackendConfig } from './routesConfig.ts';
import { join, type YamlReader } from './yamlReader.ts';

const BACKEND_KEYS = ['url', 'legacy', 'connect_timeout_ms', 'response_timeout_ms'] as const;

/**
 * `backends:` — named upstreams. Exactly one is `legacy: true`: it receives every share a
 * split does not give to a new backend, so it must exist.
 */
export function validateBackends(reader: YamlReader, node: unknown, urlOverride: UrlOverride): BackendConfig[] {
  const map = reader.map(node, 'backends', 'backend name → { url: http://host:port, legacy: true|false }');
  if (!map) return [];
  const backends: BackendConfig[] = [];
  for (const entry of reader.entries(map, 'backends')) {
    const field = join('backends', entry.key);
    if (!NAME.test(entry.key)) {
      reader.report(entry.keyNode, field, `backend name '${entry.key}' is not ${NAME_RULE}`);
      continue;
    }
    const backend = validateBackend(reader, entry.key, entry.value, field, urlOverride(entry.key));
    if (backend) backends.push({ ...backend, line: reader.lineOf(entry.keyNode) });
  }
  const legacy = backends.filter((backend) => backend.legacy);
  if (backends.length > 0 && legacy.length !== 1) {
    const found = legacy.length === 0 ? 'none is' : `${legacy.map((b) => b.name).join(', ')} are`;
    reader.report(map, 'backends', `exactly one backend must have 'legacy: true' (it takes every share not split to a new backend); ${found}`);
  }
  if (backends.length === 0 && reader.problems.length === 0) {
    reader.report(map, 'backends', 'at least one backend is needed, e.g. legacy: { url: http://127.0.0.1:8001, legacy: true }');
  }
  return backends;
}

function validateBackend(
  reader: YamlReader,
  name: string,
  node: unknown,
  field: string,
  urlOverride: string | undefined,
): Omit<BackendConfig, 'line'> | undefined {
  const map = reader.map(node, field, '{ url: http://host:port, legacy: true|false }');
  if (!map) return undefined;
  const keys = reader.knownEntries(map, field, BACKEND_KEYS);
  const urlEntry = reader.required(keys, map, field, 'url', "the back end's origin, e.g. http://127.0.0.1:8003");
  if (!urlEntry) return undefined;
  const written = reader.string(urlEntry.value, join(field, 'url'), "an origin like 'http://127.0.0.1:8003'");
  if (written === undefined) return undefined;
  const origin = parseOrigin(reader, urlOverride ?? written, urlEntry.value, join(field, 'url'), urlOverride !== undefined, name);
  const legacyEntry = keys.get('legacy');
  const legacy = legacyEntry ? reader.boolean(legacyEntry.value, join(field, 'legacy')) : false;
  const connectTimeoutMs = timeout(reader, keys.get('connect_timeout_ms')?.value, join(field, 'connect_timeout_ms'), DEFAULTS.connectTimeoutMs);
  const responseTimeoutMs = timeout(reader, keys.get('response_timeout_ms')?.value, join(field, 'response_timeout_ms'), DEFAULTS.responseTimeoutMs);
  if (origin === undefined || legacy === undefined || connectTimeoutMs === undefined || responseTimeoutMs === undefined) return undefined;
  return { name, origin, legacy, connectTimeoutMs, responseTimeoutMs };
}

function parseOrigin(reader: YamlReader, text: string, node: unknown, field: string, fromEnv: boolean, name: string): string | undefined {
  const source = fromEnv ? ` (from ${backendUrlVariable(name)})` : '';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    reader.report(node, field, `'${text}'${source} is not a URL; write an origin like http://127.0.0.1:8003`);
    return undefined;
  }
  if (url.protocol !== 'http:') {
    reader.report(node, field, `'${text}'${source}: only http:// back ends are supported (TLS to back ends is not implemented)`);
    return undefined;
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    reader.report(node, field, `'${text}'${source} must be an origin only (scheme, host, port), without path, query or credentials`);
    return undefined;
  }
  return url.origin;
}

function timeout(reader: YamlReader, node: unknown, field: string, fallback: number): number | undefined {
  if (node === undefined) return fallback;
  const value = reader.number(node, field, 'a whole number of milliseconds from 1 to 600000');
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > 600_000) {
    reader.report(node, field, `${value} is not allowed: a whole number of milliseconds from 1 to 600000`);
    return undefined;
  }
  return value;
}

/** `GATEWAY_BACKEND_<NAME>_URL` replaces a backend's url (name upper-cased, '-' → '_'). */
function backendUrlVariable(name: string): string {
  return `GATEWAY_BACKEND_${name.toUpperCase().replaceAll('-', '_')}_URL`;
}

/** A replacement URL for a backend (from the environment or a test), or undefined. */
export type UrlOverride = (name: string) => string | undefined;

export const noUrlOverride: UrlOverride = () => undefined;

/** Reads `GATEWAY_BACKEND_<NAME>_URL` variables. */
export function urlOverridesFromEnv(env: NodeJS.ProcessEnv): UrlOverride {
  return (name) => env[backendUrlVariable(name)] || undefined;
}

/** The URLs given (a test, a supervisor) when there are any, else the environment's. */
export function urlOverrideOf(backendUrls: Readonly<Record<string, string>> | undefined, env: NodeJS.ProcessEnv = process.env): UrlOverride {
  return backendUrls ? (name) => backendUrls[name] : urlOverridesFromEnv(env);
}

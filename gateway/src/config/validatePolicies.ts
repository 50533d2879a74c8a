import { wholeNumber } from './fields.ts';
import { DEFAULTS, type OutlierConfig, type ReplayConfig, type TimeoutsConfig } from './routesConfig.ts';
import { join, type YamlReader } from './yamlReader.ts';

/** `outlier:` — when a failing new backend is taken out of splits, and for how long. */
export function validateOutlier(reader: YamlReader, node: unknown): OutlierConfig {
  const defaults = { consecutiveFailures: DEFAULTS.consecutiveFailures, cooldownMs: DEFAULTS.cooldownSeconds * 1000 };
  if (node === undefined) return defaults;
  const map = reader.map(node, 'outlier', '{ consecutive_failures: 5, cooldown_seconds: 30 }');
  if (!map) return defaults;
  const entries = reader.knownEntries(map, 'outlier', ['consecutive_failures', 'cooldown_seconds']);
  const failures = wholeNumber(reader, entries.get('consecutive_failures')?.value, 'outlier.consecutive_failures', 0, 1000, '0 turns ejection off');
  const cooldown = wholeNumber(reader, entries.get('cooldown_seconds')?.value, 'outlier.cooldown_seconds', 1, 3600, 'seconds');
  return {
    consecutiveFailures: failures ?? defaults.consecutiveFailures,
    cooldownMs: cooldown === undefined ? defaults.cooldownMs : cooldown * 1000,
  };
}

/** `replay:` — the body size up to which a request is buffered so it can go to the fallback. */
export function validateReplay(reader: YamlReader, node: unknown): ReplayConfig {
  if (node === undefined) return { maxBodyBytes: DEFAULTS.maxBodyBytes };
  const map = reader.map(node, 'replay', '{ max_body_bytes: 65536 }');
  if (!map) return { maxBodyBytes: DEFAULTS.maxBodyBytes };
  const entries = reader.knownEntries(map, 'replay', ['max_body_bytes']);
  const bytes = wholeNumber(reader, entries.get('max_body_bytes')?.value, join('replay', 'max_body_bytes'), 0, 16 * 1024 * 1024, '0 turns body buffering off');
  return { maxBodyBytes: bytes ?? DEFAULTS.maxBodyBytes };
}

/** `timeouts:` — the gateway's limits on its clients (a back end's own are on the backend). */
export function validateTimeouts(reader: YamlReader, node: unknown): TimeoutsConfig {
  if (node === undefined) return { clientBodyMs: DEFAULTS.clientBodyMs };
  const map = reader.map(node, 'timeouts', '{ client_body_ms: 30000 }');
  if (!map) return { clientBodyMs: DEFAULTS.clientBodyMs };
  const entries = reader.knownEntries(map, 'timeouts', ['client_body_ms']);
  const ms = wholeNumber(
    reader,
    entries.get('client_body_ms')?.value,
    join('timeouts', 'client_body_ms'),
    100,
    600_000,
    'milliseconds for a whole request body; slower clients get 408',
  );
  return { clientBodyMs: ms ?? DEFAULTS.clientBodyMs };
}

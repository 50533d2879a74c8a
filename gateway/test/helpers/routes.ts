/** Backend URLs by name; the first is the legacy one. */
export type BackendUrls = Record<string, string>;

/**
 * A routes.yaml text for tests: the given backends (the first one `legacy: true`), extra
 * top-level sections, and the routes written as YAML list items. The test back ends have
 * no /admin or /metrics of their own, so unless `extra` says otherwise the plan protects
 * nothing (`protect: []`): the default protection has its own tests (planSafety.test.ts).
 */
export function routesYaml(backends: BackendUrls, routes: string, extra = '', backendExtras: Record<string, string> = {}): string {
  const names = Object.keys(backends);
  const backendLines = names
    .map((name, i) => `  ${name}: { url: ${backends[name]}${i === 0 ? ', legacy: true' : ''}${backendExtras[name] ? `, ${backendExtras[name]}` : ''} }`)
    .join('\n');
  const protect = /^protect:/m.test(extra) ? '' : 'protect: []\n';
  return `backends:\n${backendLines}\n${extra}\n${protect}routes:\n${routes}\n`;
}

/** Parses Prometheus text into `name{label="v",...}` → value (labels sorted by name). */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = (match[2] ?? '')
      .split(/,(?=[a-zA-Z_]\w*=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    values.set(labels ? `${match[1]}{${labels}}` : match[1]!, Number(match[3]));
  }
  return values;
}

/** The key parseMetrics uses for a sample. */
export function sample(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.keys(labels)
    .sort()
    .map((key) => `${key}="${labels[key]}"`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

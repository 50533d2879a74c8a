import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ClientKind } from './clients.ts';
import { REPO_ROOT } from './paths.ts';
import type { RoutesFlavour } from './routesFile.ts';

/**
 * A gateway variant is the same gateway child with a different environment: its env map,
 * which copy of the bench's routes it runs, and which simulated clients load it. "gateway" has
 * every feature on (the ~20-route plan, cohort hashing, metrics, the JSON access log written to
 * a file); each other variant turns one feature off (or one more on), so the difference to
 * "gateway" is that feature's cost.
 */
export interface GatewayVariant {
  readonly name: string;
  /** The feature whose cost the variant shows, for the feature-cost table; null for the baseline. */
  readonly feature: string | null;
  /** 'off': the variant turns the feature off; 'on': it turns it on (cost = variant − baseline). */
  readonly direction: 'off' | 'on' | null;
  readonly description: string;
  readonly env: Readonly<Record<string, string>>;
  readonly routes: RoutesFlavour;
  readonly clients: ClientKind;
  /** Environment variables the gateway must read for the variant to mean anything. */
  readonly needsEnv: readonly string[];
  /** Measured in the fixed-rate runs as well (the shadow target is a latency target). */
  readonly fixedRate: boolean;
  /** Spans exported over OTLP/HTTP to the legacy backend's nginx (which answers every POST 200), as to a collector. */
  readonly exportsTraces?: true;
}

export const BASELINE = 'gateway';

export const VARIANTS: readonly GatewayVariant[] = [
  {
    name: BASELINE,
    feature: null,
    direction: null,
    description: 'every feature on: 20 routes, 90/10 cohort split by cookie, metrics, access log (stdout → file)',
    env: {},
    routes: 'plan',
    clients: 'cookies',
    needsEnv: [],
    fixedRate: true,
  },
  {
    name: 'gateway-no-log',
    feature: 'access log',
    direction: 'off',
    description: 'GATEWAY_ACCESS_LOG=off: no access-log line per request',
    env: { GATEWAY_ACCESS_LOG: 'off' },
    routes: 'plan',
    clients: 'cookies',
    needsEnv: ['GATEWAY_ACCESS_LOG'],
    fixedRate: false,
  },
  {
    name: 'gateway-no-metrics',
    feature: 'metrics',
    direction: 'off',
    description: 'GATEWAY_METRICS=off: no per-request counter/histogram',
    env: { GATEWAY_METRICS: 'off' },
    routes: 'plan',
    clients: 'cookies',
    needsEnv: ['GATEWAY_METRICS'],
    fixedRate: false,
  },
  {
    name: 'gateway-no-cohort',
    feature: 'cohort hashing (cookie)',
    direction: 'off',
    description: 'the split route at 0 % new: no client key read, no hash',
    env: {},
    routes: 'no-cohort',
    clients: 'cookies',
    needsEnv: [],
    fixedRate: false,
  },
  {
    name: 'gateway-jwt',
    feature: 'cohorts with a JWT',
    direction: 'on',
    description: 'clients send a bearer token: cohort key = verified jwt:username (cached verification)',
    env: {},
    routes: 'plan',
    clients: 'jwt',
    needsEnv: ['JWT_PUBLIC_KEY_FILE'],
    fixedRate: false,
  },
  {
    name: 'gateway-shadow',
    feature: 'shadow at 100 %',
    direction: 'on',
    description: 'the split route copies every request to a backend that answers after 50 ms',
    env: {},
    routes: 'shadow',
    clients: 'cookies',
    needsEnv: [],
    fixedRate: true,
  },
  {
    name: 'gateway-tracing-off',
    feature: 'tracing, switched off',
    direction: 'off',
    description: 'an OTLP endpoint set but OTEL_SDK_DISABLED=true: the tracing-off path every default gateway runs (one null check per request, no SDK)',
    env: { OTEL_SDK_DISABLED: 'true' },
    routes: 'plan',
    clients: 'cookies',
    needsEnv: [],
    fixedRate: false,
    exportsTraces: true,
  },
  {
    name: 'gateway-tracing',
    feature: 'tracing on (default sampler)',
    direction: 'on',
    description: 'OTEL_EXPORTER_OTLP_ENDPOINT set, parentbased_always_on: a server and a client span per request, batched and exported as OTLP/HTTP JSON',
    env: {},
    routes: 'plan',
    clients: 'cookies',
    needsEnv: [],
    fixedRate: true,
    exportsTraces: true,
  },
  {
    name: 'gateway-2-workers',
    feature: null,
    direction: null,
    description: 'GATEWAY_WORKERS=2 (node:cluster): scaling with cores, not compared 1:1 with nginx',
    env: { GATEWAY_WORKERS: '2' },
    routes: 'plan',
    clients: 'cookies',
    needsEnv: ['GATEWAY_WORKERS'],
    fixedRate: false,
  },
];

/** The env switches a variant needs that gateway/src does not read (yet). */
export function missingSwitches(variant: GatewayVariant, gatewaySource = readGatewaySource()): string[] {
  return variant.needsEnv.filter((name) => !gatewaySource.includes(name));
}

let cachedSource: string | null = null;

/** All of gateway/src as one text, to look for the variables a variant sets. */
function readGatewaySource(): string {
  if (cachedSource !== null) return cachedSource;
  const parts: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const file = path.join(dir, entry);
      if (statSync(file).isDirectory()) walk(file);
      else if (file.endsWith('.ts')) parts.push(readFileSync(file, 'utf8'));
    }
  };
  try {
    walk(path.join(REPO_ROOT, 'gateway', 'src'));
  } catch {
    // no gateway/src yet: every switch is missing
  }
  cachedSource = parts.join('\n');
  return cachedSource;
}

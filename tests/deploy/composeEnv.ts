// Reads docker-compose.yaml as `docker compose` would (variable interpolation included) and
// says, per service, what environment the process in the container gets: the image's ENV
// lines (Dockerfile runtime stage, SERVICE from the build args) overlaid with the service's
// `environment:`. `nativeEnv` turns that into an environment for running the same process
// natively on this machine (host paths for secrets and bind mounts, loopback addresses, free
// ports, a throwaway database), so a test can start each process exactly as compose does.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { PROCESSES } from '../../deploy/docker/processes.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.yaml');

export type ProcessName = keyof typeof PROCESSES;

export interface ComposeBuild {
  context?: string;
  dockerfile?: string;
  args?: Record<string, string> | string[];
}

export interface ComposeMount {
  type?: string;
  source?: string;
  target: string;
  read_only?: boolean;
}

export interface ComposeService {
  image?: string;
  build?: string | ComposeBuild;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target: number; published?: string | number; host_ip?: string })[];
  expose?: (string | number)[];
  volumes?: (string | ComposeMount)[];
  secrets?: (string | { source: string; target?: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  [key: string]: unknown;
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file?: string; environment?: string; external?: boolean }>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * Compose variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}` and `$$` for a literal `$`.
 * `vars` plays the shell environment / .env file; unset variables without a default are ''.
 */
export function interpolate(text: string, vars: Record<string, string | undefined> = {}): string {
  return text.replace(
    /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (whole, dollar, name, op, arg, bare) => {
      if (dollar === '$') return '$';
      if (bare) return vars[bare] ?? '';
      const value = vars[name as string];
      const unsetOrEmpty = value === undefined || value === '';
      const missing = op?.startsWith(':') ? unsetOrEmpty : value === undefined;
      const word = arg === undefined ? '' : interpolate(arg, vars);
      switch (op) {
        case undefined:
          return value ?? '';
        case ':-':
        case '-':
          return missing ? word : value!;
        case ':?':
        case '?':
          if (missing) throw new Error(`${whole}: ${word || `${name} is required`}`);
          return value!;
        case ':+':
        case '+':
          return missing ? '' : word;
        default:
          throw new Error(`unsupported interpolation ${whole}`);
      }
    },
  );
}

function interpolateTree(node: unknown, vars: Record<string, string | undefined>): unknown {
  if (typeof node === 'string') return interpolate(node, vars);
  if (Array.isArray(node)) return node.map((item) => interpolateTree(item, vars));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, interpolateTree(value, vars)]));
  }
  return node;
}

/** The compose file, parsed and interpolated with `vars` (by default none: the file's defaults apply). */
export function readCompose(file = COMPOSE_FILE, vars: Record<string, string | undefined> = {}): ComposeFile {
  return interpolateTree(parse(readFileSync(file, 'utf8'), { merge: true }), vars) as ComposeFile;
}

/** `environment:` as a map, whichever of the two compose syntaxes the file uses. */
export function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((item) => {
        const at = item.indexOf('=');
        return at < 0 ? [item, ''] : [item.slice(0, at), item.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)]));
}

function buildArgsOf(service: ComposeService): Record<string, string> {
  if (!service.build || typeof service.build === 'string') return {};
  const args = service.build.args ?? {};
  if (Array.isArray(args)) return Object.fromEntries(args.map((item) => item.split(/=(.*)/s).slice(0, 2) as [string, string]));
  return Object.fromEntries(Object.entries(args).map(([key, value]) => [key, String(value)]));
}

/** Which MyThoughts process a compose service runs (its SERVICE build arg), or undefined. */
function processOf(service: ComposeService): ProcessName | undefined {
  const name = environmentOf(service).SERVICE ?? buildArgsOf(service).SERVICE;
  return name !== undefined && Object.hasOwn(PROCESSES, name) ? (name as ProcessName) : undefined;
}

/** The compose services that run one of the four processes (servers and one-shot commands alike), by service name. */
export function appServices(compose: ComposeFile): Record<string, ProcessName> {
  const result: Record<string, ProcessName> = {};
  for (const [name, service] of Object.entries(compose.services)) {
    const process = processOf(service);
    if (process) result[name] = process;
  }
  return result;
}

/** The app services that serve (the image's entrypoint runs the SERVICE's process), by service name. */
export function serverServices(compose: ComposeFile): Record<string, ProcessName> {
  return Object.fromEntries(Object.entries(appServices(compose)).filter(([name]) => compose.services[name]!.command === undefined));
}

/** An app service's `command` (a one-shot run of the CLI, such as plan-push), as an argument list. */
export function commandOf(service: ComposeService): string[] {
  const command = service.command ?? [];
  return typeof command === 'string' ? command.split(/\s+/) : command;
}

/** The one-shot service that runs `gateway plan push FILE`, and FILE as the container sees it. */
export function planPushOf(compose: ComposeFile): { service: string; file: string } {
  for (const name of Object.keys(appServices(compose))) {
    const args = commandOf(compose.services[name]!);
    const push = args.indexOf('push');
    if (push > 0 && args[push - 1] === 'plan') return { service: name, file: args[push + 1]! };
  }
  throw new Error('docker-compose.yaml has no service running `gateway plan push FILE`');
}

/**
 * The ENV of the Dockerfile's last stage, as the container starts with it: `ARG` defaults
 * and build args substituted (`ENV SERVICE=${SERVICE}`).
 */
function imageEnv(dockerfile: string, buildArgs: Record<string, string> = {}): Record<string, string> {
  const lines = readFileSync(dockerfile, 'utf8')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/);
  let env: Record<string, string> = {};
  let args: Record<string, string> = {};
  for (const raw of lines) {
    const line = raw.trim();
    const [instruction = '', ...rest] = line.split(/\s+/);
    const body = rest.join(' ');
    switch (instruction.toUpperCase()) {
      case 'FROM':
        env = {};
        args = {};
        break;
      case 'ARG': {
        const [name = '', value] = body.split(/=(.*)/s);
        args[name] = buildArgs[name] ?? value ?? '';
        break;
      }
      case 'ENV':
        for (const match of body.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) {
          const value = match[3] ?? match[2] ?? '';
          env[match[1]!] = interpolate(value, { ...args, ...env });
        }
        break;
    }
  }
  return env;
}

/** Exactly the environment the process of `serviceName` gets in its container. */
export function composeEnv(serviceName: string, options: { file?: string; vars?: Record<string, string | undefined> } = {}): Record<string, string> {
  const file = options.file ?? COMPOSE_FILE;
  const compose = readCompose(file, options.vars);
  const service = compose.services[serviceName];
  if (!service) throw new Error(`docker-compose.yaml has no service '${serviceName}'`);
  let fromImage: Record<string, string> = {};
  if (service.build) {
    const build: ComposeBuild = typeof service.build === 'string' ? { context: service.build } : service.build;
    const context = path.resolve(path.dirname(file), build.context ?? '.');
    fromImage = imageEnv(path.resolve(context, build.dockerfile ?? 'Dockerfile'), buildArgsOf(service));
  }
  return { ...fromImage, ...environmentOf(service) };
}

/**
 * Container path → host path for the service's secrets (/run/secrets/<target>) and bind mounts,
 * and its named volumes when `volumesDir` says where they live (`<volumesDir>/<volume>`).
 */
export function hostPathMap(
  compose: ComposeFile,
  serviceName: string,
  options: { file?: string; secretsDir?: string; volumesDir?: string } = {},
): Map<string, string> {
  const base = path.dirname(options.file ?? COMPOSE_FILE);
  const service = compose.services[serviceName]!;
  const map = new Map<string, string>();
  for (const secret of service.secrets ?? []) {
    const source = typeof secret === 'string' ? secret : secret.source;
    const target = typeof secret === 'string' ? secret : (secret.target ?? secret.source);
    const declared = compose.secrets?.[source]?.file;
    if (!declared) continue;
    const host = options.secretsDir ? path.join(options.secretsDir, path.basename(declared)) : path.resolve(base, declared);
    map.set(target.startsWith('/') ? target : `/run/secrets/${target}`, host);
  }
  for (const volume of service.volumes ?? []) {
    const mount = typeof volume === 'string' ? parseShortVolume(volume) : volume;
    if (!mount?.source) continue;
    if (!/^[./~]/.test(mount.source)) {
      if (options.volumesDir && (mount.type ?? 'volume') === 'volume') map.set(mount.target, path.join(options.volumesDir, mount.source));
      continue;
    }
    if (mount.type && mount.type !== 'bind') continue;
    map.set(mount.target, path.resolve(base, mount.source));
  }
  return map;
}

function parseShortVolume(text: string): ComposeMount | undefined {
  const [source, target] = text.split(':');
  return target ? { source, target, type: /^[./~]/.test(source ?? '') ? 'bind' : 'volume' } : undefined;
}

/** The host path for a container path, through the longest mount that covers it. */
export function toHostPath(containerPath: string, mounts: Map<string, string>): string | undefined {
  let best: [string, string] | undefined;
  for (const [target, host] of mounts) {
    if (containerPath === target || containerPath.startsWith(`${target.replace(/\/$/, '')}/`)) {
      if (!best || target.length > best[0].length) best = [target, host];
    }
  }
  return best ? path.join(best[1], path.relative(best[0], containerPath)) : undefined;
}

/** Variables whose `<NAME>_FILE` the image's entrypoint (deploy/docker/entrypoint.sh) expands. */
export function entrypointFileVariables(): string[] {
  const script = readFileSync(path.join(REPO_ROOT, 'deploy/docker/entrypoint.sh'), 'utf8');
  const match = /for name in ([A-Z0-9_ ]+); do/.exec(script);
  return match ? match[1]!.trim().split(/\s+/) : [];
}

export interface NativeOptions {
  /** Where the secret files are (e.g. made by `makeDevSecrets(tmp)`); default: the compose paths. */
  secretsDir?: string;
  /** The port each compose service listens on natively (its port variable; the gateway's public one). */
  ports?: Record<string, number>;
  /** The gateway's admin port natively. */
  gatewayAdminPort?: number;
  /** Replaces DATABASE_URL (e.g. a throwaway database). */
  databaseUrl?: string;
  /** Replaces DATA_DIR (the image's /var/lib/mythoughts does not exist here). */
  dataDir?: string;
  /**
   * Replaces OTEL_EXPORTER_OTLP_ENDPOINT (e.g. a test's OTLP receiver). Without it tracing is
   * off natively: no Jaeger runs here.
   */
  otlpEndpoint?: string;
  /**
   * Replaces GATEWAY_ROUTES (a gateway on the routes file). A gateway on the plan store gets the
   * plan plan-push pushed: its back ends' URLs are mapped from that file.
   */
  routesFile?: string;
  /**
   * `service:port` as the compose network names it → `host:port` natively, replaced wherever a
   * variable names it (GATEWAY_PLAN_STORE's etcd:2379, a replica's advertised admin URL…).
   */
  endpoints?: Record<string, string>;
  /** Where the named volumes live natively (`<volumesDir>/<volume>`): a temp dir. */
  volumesDir?: string;
  file?: string;
  vars?: Record<string, string | undefined>;
}

/**
 * The compose environment of `serviceName`, made runnable natively: secret, bind-mount and
 * volume paths → host paths, `<NAME>_FILE` expanded as the entrypoint does, listen addresses →
 * 127.0.0.1, ports, compose endpoints, DATABASE_URL and the OTLP endpoint replaced when given,
 * and, for a gateway, a GATEWAY_BACKEND_<NAME>_URL per backend of its plan that names a compose
 * service, pointing at that service's native port. Everything else is exactly what compose sets.
 */
export function nativeEnv(serviceName: string, options: NativeOptions = {}): Record<string, string> {
  const file = options.file ?? COMPOSE_FILE;
  const compose = readCompose(file, options.vars);
  const env = composeEnv(serviceName, { file, vars: options.vars });
  const mounts = hostPathMap(compose, serviceName, { file, secretsDir: options.secretsDir, volumesDir: options.volumesDir });
  for (const [key, value] of Object.entries(env)) {
    if (value.startsWith('/')) {
      const host = toHostPath(value, mounts);
      if (host) env[key] = host;
    }
  }
  for (const name of entrypointFileVariables()) {
    const fileVar = env[`${name}_FILE`];
    if (fileVar && !env[name]) {
      env[name] = readFileSync(fileVar, 'utf8');
      delete env[`${name}_FILE`];
    }
  }
  for (const key of ['HOST', 'GATEWAY_ADMIN_HOST']) if (env[key] === '0.0.0.0') env[key] = '127.0.0.1';
  for (const [key, value] of Object.entries(env)) env[key] = mapEndpoints(value, options.endpoints ?? {});
  if (options.databaseUrl && env.DATABASE_URL !== undefined) env.DATABASE_URL = options.databaseUrl;
  if (options.dataDir && env.DATA_DIR !== undefined) env.DATA_DIR = options.dataDir;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined) {
    if (options.otlpEndpoint) env.OTEL_EXPORTER_OTLP_ENDPOINT = options.otlpEndpoint;
    else delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  }
  if (options.routesFile && env.GATEWAY_ROUTES !== undefined) env.GATEWAY_ROUTES = options.routesFile;
  const process = processOf(compose.services[serviceName]!);
  const portVariable = process === 'gateway' ? 'GATEWAY_PORT' : process ? PROCESSES[process].portVariable : undefined;
  const port = options.ports?.[serviceName];
  if (portVariable && port !== undefined) env[portVariable] = String(port);
  if (process === 'gateway' && options.gatewayAdminPort !== undefined) env.GATEWAY_ADMIN_PORT = String(options.gatewayAdminPort);
  if (process === 'gateway' && compose.services[serviceName]!.command === undefined) {
    const plan = env.GATEWAY_ROUTES ?? nativePlanFile(compose, file);
    Object.assign(env, backendOverrides(plan, compose, options.ports ?? {}));
  }
  return env;
}

/** `service:port` → its native address, wherever it appears in `text` (a URL, a list of members). */
function mapEndpoints(text: string, endpoints: Record<string, string>): string {
  return text.replace(/(?<=^|[/,@\s])([a-z0-9][a-z0-9_.-]*:\d+)(?=$|[/,\s])/gi, (endpoint) => endpoints[endpoint] ?? endpoint);
}

/** The host file of the plan that plan-push writes to the store. */
function nativePlanFile(compose: ComposeFile, file = COMPOSE_FILE): string {
  const { service, file: planFile } = planPushOf(compose);
  const host = toHostPath(planFile, hostPathMap(compose, service, { file }));
  if (!host) throw new Error(`${service}: ${planFile} is not in a bind mount`);
  return host;
}

/** The one-shot's command, natively: the container paths of its arguments → host paths (e.g. the plan file). */
export function nativeCommand(serviceName: string, options: { file?: string; vars?: Record<string, string | undefined> } = {}): string[] {
  const file = options.file ?? COMPOSE_FILE;
  const compose = readCompose(file, options.vars);
  const mounts = hostPathMap(compose, serviceName, { file });
  return commandOf(compose.services[serviceName]!).map((arg) => (arg.startsWith('/') ? (toHostPath(arg, mounts) ?? arg) : arg));
}

/** GATEWAY_BACKEND_<NAME>_URL for each backend of a routes file whose host is a compose service. */
function backendOverrides(routesFile: string, compose: ComposeFile, ports: Record<string, number>): Record<string, string> {
  const routes = parse(readFileSync(routesFile, 'utf8')) as { backends?: Record<string, { url?: string }> };
  const overrides: Record<string, string> = {};
  for (const [name, backend] of Object.entries(routes.backends ?? {})) {
    if (!backend?.url) continue;
    const url = new URL(backend.url);
    if (!compose.services[url.hostname]) continue;
    const port = ports[url.hostname] ?? Number(url.port);
    overrides[`GATEWAY_BACKEND_${name.toUpperCase().replaceAll('-', '_')}_URL`] = `http://127.0.0.1:${port}`;
  }
  return overrides;
}

// docker-compose.yaml, the Dockerfile and what they name, checked without a Docker engine:
// the Compose Specification schema, every file and folder they point at, the secrets the
// documented script makes, and that each process gets the ports and variables it reads.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROCESSES } from '../../deploy/docker/processes.mjs';
import { makeDevSecrets, SECRET_FILES } from '../../deploy/make-dev-secrets.mjs';
import { compileRouteTable, describeProblems } from '../../gateway/src/config/compileRouteTable.ts';
import {
  appServices,
  COMPOSE_FILE,
  composeEnv,
  entrypointFileVariables,
  environmentOf,
  hostPathMap,
  interpolate,
  nativeEnv,
  readCompose,
  REPO_ROOT,
  toHostPath,
  type ComposeFile,
  type ComposeMount,
  type ComposeService,
} from './composeEnv.ts';

// The Compose Specification's own schema, kept in the repo with its licence (see its README).
const SCHEMA_FILE = path.join(REPO_ROOT, 'tests/deploy/compose-spec/compose-spec.json');
const compose: ComposeFile = readCompose();
const apps = appServices(compose);

function schemaValidator() {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  // The file names the draft-07 meta-schema by its https address, which Ajv (whose default
  // is draft-07) knows only as http://: the vocabulary is the same.
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  return ajv.compile(schema);
}

const explain = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`).join('\n');

function mountsOf(service: ComposeService): ComposeMount[] {
  return (service.volumes ?? []).map((volume) => {
    if (typeof volume !== 'string') return volume;
    const [source = '', target = ''] = volume.split(':');
    return { source, target, type: /^[./~]/.test(source) ? 'bind' : 'volume' };
  });
}

function secretTargets(service: ComposeService): Map<string, string> {
  const result = new Map<string, string>();
  for (const secret of service.secrets ?? []) {
    const source = typeof secret === 'string' ? secret : secret.source;
    const target = typeof secret === 'string' ? secret : (secret.target ?? secret.source);
    result.set(target.startsWith('/') ? target : `/run/secrets/${target}`, source);
  }
  return result;
}

function dependsOn(service: ComposeService): Record<string, string | undefined> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([name, dep]) => [name, dep.condition]));
}

/** Published ports in long form: host ip, host port, container port. */
function publishedPorts(service: ComposeService): { hostIp: string; published: string; target: number }[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'object') return { hostIp: port.host_ip ?? '', published: String(port.published ?? ''), target: port.target };
    const parts = String(port).split(':');
    const target = Number(parts.pop());
    const published = parts.pop() ?? '';
    return { hostIp: parts.join(':'), published, target };
  });
}

/** Every source file that may read a process's environment variables. */
function sourcesOf(process: string): string {
  const dirs = [path.join(REPO_ROOT, 'packages/runtime/src'), path.join(REPO_ROOT, 'packages/shared/src')];
  const entry = PROCESSES[process as keyof typeof PROCESSES].entry[0]!;
  dirs.push(path.join(REPO_ROOT, entry.split('/src/')[0]!, 'src'));
  const texts: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (/\.(ts|mts|js|mjs)$/.test(name)) texts.push(readFileSync(file, 'utf8'));
    }
  };
  dirs.forEach(walk);
  return texts.join('\n');
}

describe('docker-compose.yaml', () => {
  it('is valid against the Compose Specification schema', () => {
    const validate = schemaValidator();
    expect(validate(compose), explain(validate.errors)).toBe(true);
    // …and the validator does reject what compose rejects (a misspelt key, a wrong type).
    const broken = structuredClone(compose);
    (broken.services.gateway as Record<string, unknown>).depends_onn = ['users'];
    (broken.services.users as Record<string, unknown>).ports = 'not-a-list';
    expect(validate(broken)).toBe(false);
  });

  it('also parses with the variables set and refuses an unknown interpolation form', () => {
    const custom = readCompose(COMPOSE_FILE, { POSTGRES_PASSWORD: 's3cret', GATEWAY_PUBLISH_PORT: '80' });
    expect(environmentOf(custom.services.users!).DATABASE_URL).toBe('postgres://mythoughts:s3cret@postgres:5432/mythoughts');
    expect(publishedPorts(custom.services.gateway!).map((p) => p.published)).toContain('80');
    expect(interpolate('$${X} ${A:-b} ${A-c}', { A: '' })).toBe('${X} b ');
    expect(() => interpolate('${A:?set A}', {})).toThrow(/set A/);
  });

  it('runs the four processes, each from the Dockerfile with a SERVICE the image knows', () => {
    expect(Object.values(apps).sort()).toEqual(Object.keys(PROCESSES).sort());
    for (const [name, process] of Object.entries(apps)) {
      const service = compose.services[name]!;
      const build = service.build;
      expect(build, `${name}: build`).toBeTypeOf('object');
      if (typeof build !== 'object') continue;
      const context = path.resolve(REPO_ROOT, build.context ?? '.');
      expect(statSync(context).isDirectory(), `${name}: build context ${context}`).toBe(true);
      expect(existsSync(path.resolve(context, build.dockerfile ?? 'Dockerfile')), `${name}: Dockerfile`).toBe(true);
      expect(service.command, `${name}: the image's entrypoint picks the entry from SERVICE`).toBeUndefined();
      expect(service.entrypoint, name).toBeUndefined();
      for (const file of PROCESSES[process].entry.filter((arg) => arg.endsWith('.ts'))) {
        expect(existsSync(path.join(REPO_ROOT, file)), `${name} runs ${file}`).toBe(true);
      }
    }
  });

  it('mounts only files and folders that exist, and every secret file is made by deploy/make-dev-secrets.mjs', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const mount of mountsOf(service)) {
        if (mount.type !== 'bind') {
          expect(Object.keys(compose.volumes ?? {}), `${name}: named volume ${mount.source}`).toContain(mount.source);
          continue;
        }
        expect(existsSync(path.resolve(REPO_ROOT, mount.source!)), `${name}: bind mount ${mount.source}`).toBe(true);
      }
      for (const source of secretTargets(service).values()) {
        expect(Object.keys(compose.secrets ?? {}), `${name}: secret ${source}`).toContain(source);
      }
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compose-secrets-'));
    try {
      const written = makeDevSecrets(dir);
      expect(written.sort()).toEqual([...SECRET_FILES].sort());
      for (const [name, secret] of Object.entries(compose.secrets ?? {})) {
        expect(secret.file, `secret ${name} comes from a file`).toBeTruthy();
        const declared = path.resolve(REPO_ROOT, secret.file!);
        expect(path.dirname(declared), `secret ${name} lives in deploy/secrets/`).toBe(path.join(REPO_ROOT, 'deploy/secrets'));
        expect(existsSync(path.join(dir, path.basename(declared))), `secret ${name}: the script makes ${path.basename(declared)}`).toBe(true);
        // Never committed: git ignores it.
        execFileSync('git', ['check-ignore', '-q', path.relative(REPO_ROOT, declared)], { cwd: REPO_ROOT });
      }
      expect(readFileSync(path.join(dir, 'jwt-private.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(statSync(path.join(dir, 'jwt-private.pem')).mode & 0o004, 'readable by the container user').toBeTruthy();
      expect(makeDevSecrets(dir), 'a second run keeps what exists').toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives each process its port, listen address, keys and PostgreSQL as the process reads them', () => {
    const postgres = compose.services.postgres!;
    const pg = environmentOf(postgres);
    expect(postgres.image).toMatch(/^postgres:16\b/);
    expect(postgres.healthcheck?.test).toBeTruthy();
    expect(mountsOf(postgres).some((m) => m.type === 'volume' && m.target === '/var/lib/postgresql/data')).toBe(true);
    expect(postgres.ports, 'PostgreSQL is not published').toBeUndefined();

    for (const [name, process] of Object.entries(apps)) {
      const service = compose.services[name]!;
      const env = environmentOf(service);
      const spec = PROCESSES[process];
      const secrets = secretTargets(service);
      const listenPort = process === 'gateway' ? env.GATEWAY_PORT : env[spec.portVariable];
      expect(listenPort, `${name}: port variable`).toMatch(/^\d+$/);
      if (process !== 'gateway') {
        expect(env.HOST, `${name}: HOST`).toBe('0.0.0.0');
        expect((service.expose ?? []).map(String), `${name}: expose`).toContain(listenPort);
        expect(dependsOn(service).postgres, `${name} waits for PostgreSQL`).toBe('service_healthy');
        const url = new URL(env.DATABASE_URL!);
        expect(url.protocol).toBe('postgres:');
        expect(url.hostname, `${name}: DATABASE_URL host is the postgres service`).toBe('postgres');
        expect(url.port || '5432').toBe('5432');
        expect(decodeURIComponent(url.username)).toBe(pg.POSTGRES_USER);
        expect(decodeURIComponent(url.password)).toBe(pg.POSTGRES_PASSWORD);
        expect(url.pathname.slice(1)).toBe(pg.POSTGRES_DB);
      } else {
        expect(dependsOn(service)).toEqual({ 'legacy-monolith': 'service_healthy', users: 'service_healthy', thoughts: 'service_healthy' });
      }
      // Keys come from mounted secrets; only the signers get the private key.
      expect(secrets.get(env.JWT_PUBLIC_KEY_FILE!), `${name}: JWT_PUBLIC_KEY_FILE is a mounted secret`).toBe('jwt-public');
      const signer = process === 'users' || process === 'legacy-monolith';
      if (signer) expect(secrets.get(env.JWT_PRIVATE_KEY_FILE!), `${name}: JWT_PRIVATE_KEY_FILE`).toBe('jwt-private');
      else expect([...secrets.values()], `${name} does not sign: no private key`).not.toContain('jwt-private');
      expect(env.JWT_PRIVATE_KEY_FILE === undefined, `${name}: JWT_PRIVATE_KEY_FILE only for signers`).toBe(!signer);
      // Every variable compose sets is one the process (or the image's entrypoint) reads.
      const source = sourcesOf(process);
      const entrypointVars = entrypointFileVariables().map((v) => `${v}_FILE`);
      for (const variable of Object.keys(env)) {
        if (entrypointVars.includes(variable)) {
          expect(secrets.has(env[variable]!), `${name}: ${variable} is a mounted secret`).toBe(true);
          continue;
        }
        expect(source.includes(variable), `${name}: ${variable} is read by ${process}`).toBe(true);
      }
    }
    // Only one process seeds the demo data, so they never race to insert it.
    const seeders = Object.keys(apps).filter((name) => /^(1|true|yes)$/i.test(environmentOf(compose.services[name]!).SEED_DEMO_DATA ?? ''));
    expect(seeders.length).toBeLessThanOrEqual(1);
  });

  it('publishes the gateway on 8080 and its admin port only on 127.0.0.1, and no back end at all', () => {
    const gateway = compose.services.gateway!;
    const env = environmentOf(gateway);
    const ports = publishedPorts(gateway);
    const publicPort = ports.find((p) => String(p.target) === env.GATEWAY_PORT);
    expect(publicPort?.published).toBe('8080');
    const admin = ports.find((p) => String(p.target) === env.GATEWAY_ADMIN_PORT);
    expect(admin?.hostIp, 'admin published to loopback only').toBe('127.0.0.1');
    // Listening beyond loopback inside the container needs the token (the gateway refuses otherwise).
    expect(env.GATEWAY_ADMIN_HOST).toBe('0.0.0.0');
    expect(secretTargets(gateway).get(env.GATEWAY_ADMIN_TOKEN_FILE!)).toBe('gateway-admin-token');
    expect(secretTargets(gateway).get(env.GATEWAY_OVERRIDE_SECRET_FILE!)).toBe('gateway-override-secret');
    expect(ports.every((p) => p === publicPort || p.hostIp === '127.0.0.1')).toBe(true);
    for (const name of ['legacy-monolith', 'users', 'thoughts', 'postgres']) expect(compose.services[name]!.ports, name).toBeUndefined();
    for (const name of ['prometheus', 'grafana']) {
      expect(
        publishedPorts(compose.services[name]!).every((p) => p.hostIp === '127.0.0.1'),
        name,
      ).toBe(true);
    }
  });

  it("mounts a routes.yaml the gateway's validator accepts, as a folder so replaced files are seen, naming compose services", () => {
    const gateway = compose.services.gateway!;
    const env = environmentOf(gateway);
    const mounts = hostPathMap(compose, 'gateway');
    const routesFile = toHostPath(env.GATEWAY_ROUTES!, mounts);
    expect(routesFile, 'GATEWAY_ROUTES lies in a bind mount').toBeDefined();
    const mount = mountsOf(gateway).find((m) => env.GATEWAY_ROUTES!.startsWith(`${m.target}/`));
    expect(mount && statSync(path.resolve(REPO_ROOT, mount.source!)).isDirectory(), 'a folder mount').toBe(true);
    expect(mount?.read_only, 'writable: `gateway shift` and the admin API write it back').not.toBe(true);
    const text = readFileSync(routesFile!, 'utf8');
    const result = compileRouteTable(text, routesFile!);
    expect(result.ok, result.ok ? '' : describeProblems(result.problems)).toBe(true);
    const backends = (parse(text) as { backends: Record<string, { url: string }> }).backends;
    for (const [backend, { url }] of Object.entries(backends)) {
      const { hostname, port } = new URL(url);
      const process = apps[hostname];
      expect(process, `backend ${backend}: ${hostname} is a compose service`).toBeDefined();
      expect(process).not.toBe('gateway');
      expect(environmentOf(compose.services[hostname]!)[PROCESSES[process!].portVariable], `backend ${backend}: port`).toBe(port);
    }
  });

  it('scrapes the gateway admin port and the three back ends where compose runs them', () => {
    const prometheus = compose.services.prometheus!;
    const configMount = mountsOf(prometheus).find((m) => m.target === '/etc/prometheus');
    expect(configMount?.source).toBeDefined();
    const config = parse(readFileSync(path.resolve(REPO_ROOT, configMount!.source!, 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[]; authorization?: { credentials_file?: string } }[];
    };
    for (const rules of config.rule_files) expect(existsSync(path.resolve(REPO_ROOT, configMount!.source!, rules)), rules).toBe(true);
    const targets = new Map<string, (typeof config.scrape_configs)[number]>();
    for (const job of config.scrape_configs) for (const sc of job.static_configs) for (const t of sc.targets) targets.set(t, job);
    for (const [name, process] of Object.entries(apps)) {
      const env = environmentOf(compose.services[name]!);
      const port = process === 'gateway' ? env.GATEWAY_ADMIN_PORT : env[PROCESSES[process].portVariable];
      const job = targets.get(`${name}:${port}`);
      expect(job, `a scrape target ${name}:${port}`).toBeDefined();
      if (process === 'gateway') {
        // The admin port wants the token for /metrics: Prometheus reads it from its secret.
        expect(secretTargets(prometheus).get(job!.authorization?.credentials_file ?? '')).toBe('gateway-admin-token');
      }
    }
  });

  it('provisions Grafana with the Prometheus service and the dashboard folder it mounts', () => {
    const grafana = compose.services.grafana!;
    const mounts = hostPathMap(compose, 'grafana');
    const provisioning = toHostPath('/etc/grafana/provisioning', mounts)!;
    const datasources = parse(readFileSync(path.join(provisioning, 'datasources/prometheus.yaml'), 'utf8')) as { datasources: { url: string; uid: string }[] };
    const url = new URL(datasources.datasources[0]!.url);
    expect(compose.services[url.hostname], 'datasource host is a compose service').toBe(compose.services.prometheus);
    const providers = parse(readFileSync(path.join(provisioning, 'dashboards/mythoughts.yaml'), 'utf8')) as { providers: { options: { path: string } }[] };
    const dashboards = toHostPath(providers.providers[0]!.options.path, mounts);
    expect(dashboards && readdirSync(dashboards).some((f) => f.endsWith('.json')), 'dashboards mounted where the provider reads').toBe(true);
    const home = toHostPath(environmentOf(grafana).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!, mounts);
    expect(home && existsSync(home)).toBe(true);
    expect(secretTargets(grafana).get(environmentOf(grafana).GF_SECURITY_ADMIN_PASSWORD__FILE!)).toBe('grafana-admin-password');
  });

  it("sends every process's traces to the Jaeger service over OTLP/HTTP, which Grafana reads as a data source", () => {
    const jaeger = compose.services.jaeger!;
    expect(jaeger.image).toMatch(/^jaegertracing\/jaeger:2\.\d+\.\d+$/);
    // The receiver must listen beyond the container's loopback for the others to reach it.
    expect(jaeger.command).toContain('--set=receivers.otlp.protocols.http.endpoint=0.0.0.0:4318');
    expect(publishedPorts(jaeger)).toEqual([{ hostIp: '127.0.0.1', published: '16686', target: 16686 }]);
    for (const name of Object.keys(apps)) {
      const env = environmentOf(compose.services[name]!);
      const endpoint = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT!);
      expect(compose.services[endpoint.hostname], `${name}: the OTLP endpoint is a compose service`).toBe(jaeger);
      expect(endpoint.port, `${name}: OTLP/HTTP, not gRPC`).toBe('4318');
      expect(env.OTEL_TRACES_SAMPLER, name).toBe('parentbased_always_on');
    }
    // An empty OTEL_EXPORTER_OTLP_ENDPOINT in the shell turns tracing off everywhere.
    const off = readCompose(COMPOSE_FILE, { OTEL_EXPORTER_OTLP_ENDPOINT: '' });
    for (const name of Object.keys(apps)) expect(environmentOf(off.services[name]!).OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe('');
    const provisioning = toHostPath('/etc/grafana/provisioning', hostPathMap(compose, 'grafana'))!;
    const datasource = (parse(readFileSync(path.join(provisioning, 'datasources/jaeger.yaml'), 'utf8')) as { datasources: { type: string; url: string }[] })
      .datasources[0]!;
    expect(datasource.type).toBe('jaeger');
    const query = new URL(datasource.url);
    expect([compose.services[query.hostname], query.port]).toEqual([jaeger, '16686']);
  });

  it('nativeEnv maps the container environment onto this machine for an integration test', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compose-native-'));
    try {
      makeDevSecrets(dir);
      const ports = { gateway: 18080, 'legacy-monolith': 18001, users: 18002, thoughts: 18003 };
      const gateway = nativeEnv('gateway', { secretsDir: dir, ports, gatewayAdminPort: 19901 });
      expect(gateway.GATEWAY_ROUTES).toBe(path.join(REPO_ROOT, 'deploy/compose/routes.yaml'));
      expect(gateway.JWT_PUBLIC_KEY_FILE).toBe(path.join(dir, 'jwt-public.pem'));
      expect(gateway.GATEWAY_ADMIN_TOKEN).toBe(readFileSync(path.join(dir, 'gateway-admin-token'), 'utf8'));
      expect(gateway.GATEWAY_ADMIN_HOST).toBe('127.0.0.1');
      expect(gateway.GATEWAY_PORT).toBe('18080');
      expect(gateway.GATEWAY_BACKEND_USERS_URL).toBe('http://127.0.0.1:18002');
      expect(gateway.GATEWAY_BACKEND_LEGACY_URL).toBe('http://127.0.0.1:18001');
      const users = nativeEnv('users', { secretsDir: dir, ports, databaseUrl: 'postgres://a:b@127.0.0.1:1/x' });
      expect(users).toMatchObject({
        HOST: '127.0.0.1',
        USERS_PORT: '18002',
        DATABASE_URL: 'postgres://a:b@127.0.0.1:1/x',
        JWT_PRIVATE_KEY_FILE: path.join(dir, 'jwt-private.pem'),
      });
      expect(users.OTEL_EXPORTER_OTLP_ENDPOINT, 'no Jaeger runs natively: tracing off').toBeUndefined();
      expect(nativeEnv('users', { otlpEndpoint: 'http://127.0.0.1:4318' }).OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://127.0.0.1:4318');
      // Without options it is exactly the container's view, image ENV included.
      expect(composeEnv('thoughts')).toMatchObject({ SERVICE: 'thoughts', THOUGHTS_PORT: '8003', HOST: '0.0.0.0', NODE_ENV: 'production' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: string[][] = [];
  for (const line of lines) {
    if (/^FROM\s/i.test(line)) stages.push([]);
    stages.at(-1)?.push(line);
  }
  const final = stages.at(-1) ?? [];
  const ignore = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  let checkDir: string;

  beforeAll(() => {
    checkDir = mkdtempSync(path.join(os.tmpdir(), 'dockerfile-'));
  });
  afterAll(() => rmSync(checkDir, { recursive: true, force: true }));

  it('is multi-stage on node:20-bookworm-slim; the final stage runs as node under tini with a HEALTHCHECK', () => {
    expect(text).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage[0]).toMatch(/^FROM \$\{NODE_IMAGE\}/);
    expect(stages[0]!.join('\n')).toMatch(/npm ci --omit=dev/);
    expect(final.join('\n')).not.toMatch(/g\+\+|python3/);
    expect(final.filter((l) => /^USER /.test(l)).at(-1)).toBe('USER node');
    expect(final.find((l) => /^HEALTHCHECK /.test(l))).toMatch(/deploy\/docker\/healthcheck\.mjs/);
    expect(final.find((l) => /^ENTRYPOINT /.test(l))).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--", "\/app\/deploy\/docker\/entrypoint\.sh"\]$/);
    expect(final.join('\n')).toMatch(/apt-get install -y --no-install-recommends tini/);
    expect(final.some((l) => /^ARG SERVICE=/.test(l)) && final.some((l) => /^ENV SERVICE=\$\{SERVICE\}/.test(l))).toBe(true);
  });

  it('copies only files that exist and are not ignored, and never secrets or node_modules', () => {
    for (const line of lines.filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l))) {
      const parts = line
        .split(/\s+/)
        .slice(1)
        .filter((p) => !p.startsWith('--'));
      for (const source of parts.slice(0, -1)) expect(existsSync(path.join(REPO_ROOT, source)), `COPY ${source}`).toBe(true);
    }
    for (const pattern of ['**/node_modules', 'deploy/secrets', '.git', 'data', '**/*.pem']) expect(ignore, pattern).toContain(pattern);
    for (const keep of ['deploy/docker', 'routes.yaml', 'gateway', 'packages']) expect(ignore, keep).not.toContain(keep);
  });

  it('has an entrypoint and healthcheck that pick the process from SERVICE', () => {
    const entrypoint = path.join(REPO_ROOT, 'deploy/docker/entrypoint.sh');
    expect(statSync(entrypoint).mode & 0o111, 'entrypoint.sh is executable').toBeTruthy();
    execFileSync('sh', ['-n', entrypoint]);
    const script = path.join(REPO_ROOT, 'deploy/docker/processes.mjs');
    for (const [service, spec] of Object.entries(PROCESSES)) {
      expect(execFileSync(process.execPath, [script, 'entry', service], { encoding: 'utf8' }).trim()).toBe(spec.entry.join(' '));
    }
    expect(() => execFileSync(process.execPath, [script, 'entry', 'nope'], { stdio: 'pipe' })).toThrow();
    const url = execFileSync(process.execPath, [script, 'health-url', 'users'], { encoding: 'utf8', env: { ...process.env, USERS_PORT: '9123' } }).trim();
    expect(url).toBe('http://127.0.0.1:9123/healthz');
    // The entrypoint expands <VAR>_FILE (secrets) before starting the process.
    const token = path.join(checkDir, 'token');
    execFileSync('sh', ['-c', `printf tok > ${token}`]);
    const out = execFileSync('sh', [entrypoint, 'sh', '-c', 'printf %s "$GATEWAY_ADMIN_TOKEN"'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, GATEWAY_ADMIN_TOKEN_FILE: token },
    });
    expect(out).toBe('tok');
  });
});

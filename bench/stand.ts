import { readFileSync } from 'node:fs';
import path from 'node:path';
import { backendHttpBlock } from './backendNginxConfig.ts';
import { BENCH_COHORT_SECRET, makeClients, makeJwtKeys, type ClientKind, type ClientProfile } from './clients.ts';
import { answers, startGatewayProcess } from './gatewayProcess.ts';
import { startNginx } from './nginx.ts';
import { nginxProxyHttpBlock } from './nginxProxyConfig.ts';
import { REPO_ROOT } from './paths.ts';
import { freePort, startServer, type Server } from './processes.ts';
import { LOAD_PATH, readBenchRoutes, writeGatewayRoutes, type BackendUrls } from './routesFile.ts';
import { startSlowBackend } from './slowBackend.ts';
import { checkSplit, type SplitCount } from './splitCheck.ts';
import { missingSwitches, VARIANTS, type GatewayVariant } from './variants.ts';

/** One thing measured: a URL, the process whose CPU and memory count, the clients that load it. */
export interface Target {
  readonly name: string;
  readonly kind: 'direct' | 'nginx' | 'bare' | 'gateway';
  readonly description: string;
  readonly url: string;
  /** The proxy process (tree) measured for CPU and RSS; null for direct. */
  readonly pid: number | null;
  readonly clients: ClientProfile;
  readonly fixedRate: boolean;
  readonly overload: boolean;
  readonly variant: GatewayVariant | null;
  readonly split: SplitCount | null;
}

export interface Unavailable {
  readonly name: string;
  readonly reason: string;
}

export interface Stand {
  readonly targets: readonly Target[];
  readonly unavailable: readonly Unavailable[];
  readonly slowBackendRequests: () => number;
  stop(): Promise<void>;
}

const CORE_TARGETS = ['direct', 'nginx', 'nginx-2-workers', 'bare', 'bare-undici', 'fastify-proxy', 'npm-start'] as const;

/** Every target name `--only` accepts (besides route-scaling). */
export function targetNames(): string[] {
  return [...CORE_TARGETS, ...VARIANTS.map((v) => v.name)];
}

/**
 * Starts the backends and every selected target on free loopback ports, checks each one
 * splits and answers, and returns them with a stop() that ends every process it started.
 * A gateway variant that cannot run (a switch the gateway lacks, a start failure) is listed
 * as unavailable with the reason, and the run goes on without it.
 */
export async function startStand(tmpDir: string, selected: (name: string) => boolean, log: (line: string) => void): Promise<Stand> {
  const stops: (() => Promise<void>)[] = [];
  const unavailable: Unavailable[] = [];
  const targets: Target[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const ports = { legacy: await freePort(), new: await freePort(), slow: await freePort() };
    const urls: BackendUrls = { legacy: `http://127.0.0.1:${ports.legacy}`, new: `http://127.0.0.1:${ports.new}`, slow: `http://127.0.0.1:${ports.slow}` };
    const backends = await startNginx('backends', tmpDir, backendHttpBlock(ports), ports.legacy);
    stops.push(backends.stop);
    const slow = await startSlowBackend(ports.slow);
    stops.push(slow.stop);
    log(`backends: nginx (1 worker) legacy :${ports.legacy}, new :${ports.new}; slow shadow backend :${ports.slow}`);

    const keys = makeJwtKeys(tmpDir);
    const clients: Record<ClientKind, ClientProfile> = { cookies: makeClients(tmpDir, 'cookies', keys), jwt: makeClients(tmpDir, 'jwt', keys) };
    const add = async (target: Omit<Target, 'split'>) => {
      const split = target.kind === 'direct' ? null : await checkSplit(target.url, target.clients.headers);
      if (split && split.ok < split.requests) {
        unavailable.push({
          name: target.name,
          reason: `answered ${split.requests - split.ok} of ${split.requests} check requests with an error: ${split.firstError}`,
        });
        return;
      }
      targets.push({ ...target, split });
    };

    // Direct is always measured: it is the baseline of the added latency.
    await add({
      name: 'direct',
      kind: 'direct',
      description: 'wrk/hey → the legacy backend (nginx static JSON)',
      url: urls.legacy + LOAD_PATH,
      pid: null,
      clients: clients.cookies,
      fixedRate: true,
      overload: true,
      variant: null,
    });

    for (const workers of [1, 2]) {
      const name = workers === 1 ? 'nginx' : `nginx-${workers}-workers`;
      if (!selected(name)) continue;
      const port = await freePort();
      const block = nginxProxyHttpBlock(readBenchRoutes(), port, { legacy: urls.legacy, new: urls.new }, path.join(tmpDir, `${name}-access.log`));
      const nginx = await startNginx(name, tmpDir, block, port, workers);
      stops.push(nginx.stop);
      await add({
        name,
        kind: 'nginx',
        description: `nginx ${workers === 1 ? '1 worker' : `${workers} workers (scaling with cores, against gateway-2-workers)`}, same 20 routes as regex locations, split_clients 90/10, upstream keepalive, buffered access log`,
        url: `http://127.0.0.1:${port}${LOAD_PATH}`,
        pid: nginx.pid,
        clients: clients.cookies,
        fixedRate: workers === 1,
        overload: workers === 1,
        variant: null,
      });
    }

    const bareProxies = [
      {
        name: 'bare',
        script: 'bareProxy.ts',
        description: "node:http + http-proxy-3, keep-alive agent, no routing/logging/metrics (the old engine's ceiling)",
        rounds: true,
      },
      {
        name: 'bare-undici',
        script: 'bareUndici.ts',
        description: "node:http + undici Pool.stream, keep-alive, no routing/logging/metrics (the engine's ceiling)",
        rounds: true,
      },
      {
        name: 'fastify-proxy',
        script: 'fastifyProxy.ts',
        description:
          'the Node peer: fastify 5 + @fastify/http-proxy 11 (undici), the 20 routes as fastify routes, the split by a hash of gw_cohort; no metrics, no log',
        rounds: false,
      },
    ];
    for (const bare of bareProxies.filter((b) => selected(b.name))) {
      const server = await startNodeProxy(bare.name, bare.script, tmpDir, urls);
      stops.push(server.stop);
      await add({
        name: bare.name,
        kind: 'bare',
        description: bare.description,
        url: `http://127.0.0.1:${server.port}${LOAD_PATH}`,
        pid: server.pid,
        clients: clients.cookies,
        fixedRate: bare.rounds,
        overload: bare.rounds,
        variant: null,
      });
    }

    if (selected('npm-start')) {
      // What a newcomer measures: the whole system under the supervisor, its gateway on the bench's plan and backends.
      const port = await freePort();
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATA_DIR: path.join(tmpDir, 'npm-start-data'),
        GATEWAY_ROUTES: writeGatewayRoutes(tmpDir, urls, 'plan'),
        GATEWAY_PORT: String(port),
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_ADMIN_PORT: String(await freePort()),
        GATEWAY_BACKEND_LEGACY_URL: urls.legacy,
        LEGACY_PORT: String(await freePort()),
        USERS_PORT: String(await freePort()),
        THOUGHTS_PORT: String(await freePort()),
        GATEWAY_COHORT_SECRET: BENCH_COHORT_SECRET,
      };
      try {
        const supervisor = await startServer({
          name: 'npm-start',
          command: process.execPath,
          args: ['--import', 'tsx', path.join(REPO_ROOT, 'scripts', 'start.ts')],
          cwd: REPO_ROOT,
          env,
          port,
          logFile: path.join(tmpDir, 'npm-start.log'),
          readyTimeoutMs: 90_000,
        });
        stops.push(supervisor.stop);
        await answers(`http://127.0.0.1:${port}${LOAD_PATH}`, 60);
        await add({
          name: 'npm-start',
          kind: 'gateway',
          description: 'the gateway as `npm start` runs it: the supervisor with every process, its output piped and pretty-printed, the same plan and backends',
          url: `http://127.0.0.1:${port}${LOAD_PATH}`,
          pid: supervisor.pid,
          clients: clients.cookies,
          fixedRate: false,
          overload: false,
          variant: null,
        });
      } catch (error) {
        unavailable.push({ name: 'npm-start', reason: firstLines((error as Error).message) });
      }
    }

    for (const variant of VARIANTS.filter((v) => selected(v.name))) {
      const missing = missingSwitches(variant);
      if (missing.length > 0) {
        unavailable.push({ name: variant.name, reason: `gateway/src does not read ${missing.join(', ')} yet` });
        continue;
      }
      const routesFile = writeGatewayRoutes(tmpDir, urls, variant.routes);
      const problems = await routesProblems(routesFile);
      if (problems) {
        unavailable.push({ name: variant.name, reason: `the gateway rejects its routes file: ${problems}` });
        continue;
      }
      try {
        const gateway = await startGatewayProcess({
          name: variant.name,
          port: await freePort(),
          adminPort: await freePort(),
          routesFile,
          tmpDir,
          env: { JWT_PUBLIC_KEY_FILE: keys.publicKeyFile, ...(variant.exportsTraces ? { OTEL_EXPORTER_OTLP_ENDPOINT: urls.legacy } : {}), ...variant.env },
          probePath: LOAD_PATH,
        });
        stops.push(gateway.stop);
        await add({
          name: variant.name,
          kind: 'gateway',
          description: variant.description,
          url: `http://127.0.0.1:${gateway.port}${LOAD_PATH}`,
          pid: gateway.pid,
          clients: clients[variant.clients],
          fixedRate: variant.fixedRate,
          overload: variant.name === 'gateway',
          variant,
        });
      } catch (error) {
        unavailable.push({ name: variant.name, reason: firstLines((error as Error).message) });
      }
    }
    for (const t of targets) log(`target ${t.name.padEnd(20)} ${t.url}${t.split ? `  split check: ${formatSplit(t.split)}` : ''}`);
    for (const u of unavailable) log(`target ${u.name.padEnd(20)} NOT AVAILABLE: ${u.reason}`);
    return { targets, unavailable, slowBackendRequests: slow.requests, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A proxy script of the bench (bench/<script> <port> <legacy origin> <new origin>) as a child
 * process on a free loopback port, so its CPU and RSS are measured like the gateway's.
 */
export async function startNodeProxy(name: string, script: string, tmpDir: string, urls: BackendUrls, nodeArgs: readonly string[] = []): Promise<Server> {
  const port = await freePort();
  return startServer({
    name,
    command: process.execPath,
    args: [...nodeArgs, '--import', 'tsx', path.join(REPO_ROOT, 'bench', script), String(port), urls.legacy, urls.new],
    cwd: REPO_ROOT,
    port,
    logFile: path.join(tmpDir, `${name}.log`),
  });
}

/** The gateway's own validation of a generated routes file, run in this process. */
async function routesProblems(file: string): Promise<string | null> {
  try {
    const { compileRouteTable, describeProblems } = await import('../gateway/src/config/compileRouteTable.ts');
    const result = compileRouteTable(readFileSync(file, 'utf8'), file);
    return result.ok ? null : firstLines(describeProblems(result.problems)).replaceAll(path.dirname(file) + path.sep, '');
  } catch (error) {
    return `cannot load gateway/src/config/compileRouteTable.ts: ${(error as Error).message}`;
  }
}

export function formatSplit(split: SplitCount): string {
  return Object.entries(split.byBackend)
    .sort()
    .map(([name, n]) => `${name} ${((100 * n) / split.ok).toFixed(1)} %`)
    .join(', ');
}

function firstLines(text: string, n = 4): string {
  return text.split('\n').slice(0, n).join(' ').replace(/\s+/g, ' ').trim();
}

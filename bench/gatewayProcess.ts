import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { BENCH_COHORT_SECRET } from './clients.ts';
import { REPO_ROOT } from './paths.ts';
import { delay, startServer, type Server } from './processes.ts';

/** The gateway's entry point, run exactly as `npm start -w gateway` runs it. */
const GATEWAY_CLI = path.join(REPO_ROOT, 'gateway', 'src', 'cli.ts');

export interface GatewaySpec {
  readonly name: string;
  readonly port: number;
  readonly adminPort: number;
  readonly routesFile: string;
  readonly tmpDir: string;
  /** The variant's switches, on top of the bench's defaults. */
  readonly env: Readonly<Record<string, string>>;
  readonly probePath: string;
  /** Options for node itself before the script (e.g. `--cpu-prof`); none by default. */
  readonly nodeArgs?: readonly string[];
}

/**
 * Starts `node --import tsx gateway/src/cli.ts serve` as a child, on loopback ports, with
 * its stdout/stderr (the JSON access log) going to a file in the temp dir, and waits until it
 * answers a request on the measured path.
 */
export async function startGatewayProcess(spec: GatewaySpec): Promise<Server> {
  if (!existsSync(GATEWAY_CLI)) throw new Error(`${path.relative(REPO_ROOT, GATEWAY_CLI)} does not exist yet`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: String(spec.port),
    GATEWAY_ADMIN_HOST: '127.0.0.1',
    GATEWAY_ADMIN_PORT: String(spec.adminPort),
    GATEWAY_ROUTES: spec.routesFile,
    // Keys, SQLite and anything else a default would put under <repo>/data stays in the temp dir.
    DATA_DIR: path.join(spec.tmpDir, 'data'),
    LOG_LEVEL: 'info',
    GATEWAY_COHORT_SECRET: BENCH_COHORT_SECRET,
    ...spec.env,
  };
  const server = await startServer({
    name: spec.name,
    command: process.execPath,
    args: [...(spec.nodeArgs ?? []), '--import', 'tsx', GATEWAY_CLI, 'serve'],
    cwd: REPO_ROOT,
    env,
    port: spec.port,
    logFile: path.join(spec.tmpDir, `${spec.name}.log`),
  });
  try {
    await answers(`http://127.0.0.1:${spec.port}${spec.probePath}`);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/** Waits (`seconds` at most) until the URL answers 200. */
export async function answers(url: string, seconds = 10): Promise<void> {
  let last = '';
  for (let i = 0; i < seconds * 5; i++) {
    last = await new Promise<string>((resolve) => {
      http
        .get(url, { timeout: 2_000 }, (res) => {
          res.resume();
          resolve(res.statusCode === 200 ? '' : `HTTP ${res.statusCode}`);
        })
        .on('error', (error) => resolve(error.message));
    });
    if (last === '') return;
    await delay(200);
  }
  throw new Error(`the gateway does not answer ${url} with 200 (${last})`);
}

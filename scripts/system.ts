// What `npm start` and `npm run fleet` share: the system's processes, preparing the database
// and keys once, and running everything under supervisors (supervisor.ts) with prefixed,
// pretty-printed logs until Ctrl-C or SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { prettyFactory } from 'pino-pretty';
import { loadServiceConfig, REPO_ROOT } from '@mythoughts/shared/config';
import { prepareDatabase } from '@mythoughts/shared/db/prepare';
import { ConfigError } from '@mythoughts/runtime/errors';
import { resolveKeyFiles } from '@mythoughts/shared/keys';
import { DEFAULT_RESTART_POLICY, Supervisor, type GiveUp, type RestartPolicy } from './supervisor.ts';

export interface ProcessSpec {
  name: string;
  /** The executable and its arguments. */
  command: readonly string[];
  /** Variables of this process alone, on top of the system's. */
  env?: NodeJS.ProcessEnv;
  /** In a process group of its own, so a terminal's Ctrl-C reaches it only through the supervisor (stopped last). */
  ownGroup?: boolean;
  healthUrl: string;
  publicUrl: string;
  what: string;
}

const env = process.env;

/** The port in `variable`, else `fallback`, as text. */
export const port = (variable: string, fallback: number) => env[variable] || String(fallback);

/** A TypeScript entry point of the repo run by node (through tsx). */
const nodeScript = (...entry: string[]) => [process.execPath, '--import', 'tsx', ...entry];

/** The monolith and the new services, on LEGACY_PORT, USERS_PORT, THOUGHTS_PORT (8001-8003). */
export function backendSpecs(): ProcessSpec[] {
  return [
    { name: 'legacy', variable: 'LEGACY_PORT', port: 8001, entry: 'legacy-monolith/src/main.ts', what: 'legacy monolith (HTML site + JSON API)' },
    { name: 'users', variable: 'USERS_PORT', port: 8002, entry: 'services/users/src/main.ts', what: 'users service (Swagger UI)' },
    { name: 'thoughts', variable: 'THOUGHTS_PORT', port: 8003, entry: 'services/thoughts/src/main.ts', what: 'thoughts service (Swagger UI)' },
  ].map(({ name, variable, port: fallback, entry, what }) => ({
    name,
    command: nodeScript(entry),
    healthUrl: `http://127.0.0.1:${port(variable, fallback)}/healthz`,
    publicUrl: `http://127.0.0.1:${port(variable, fallback)}/`,
    what,
  }));
}

/** Whether this checkout has the gateway (the repo is built up step by step). */
export const hasGateway = () => existsSync(path.join(REPO_ROOT, 'gateway/src/cli.ts'));

/** `gateway serve` on these ports, with its own extra variables (a fleet replica's). */
export function gatewaySpec(name: string, publicPort: string, adminPort: string, extra: NodeJS.ProcessEnv = {}): ProcessSpec {
  const admin = `http://127.0.0.1:${adminPort}`;
  return {
    name,
    command: nodeScript('gateway/src/cli.ts', 'serve'),
    env: { GATEWAY_PORT: publicPort, GATEWAY_ADMIN_PORT: adminPort, ...extra },
    healthUrl: `${admin}/healthz`,
    publicUrl: `http://127.0.0.1:${publicPort}/`,
    what: `${name === 'gateway' ? 'gateway — the public entry' : `gateway replica ${name}`} (admin: ${admin}/)`,
  };
}

export interface PreparedSystem {
  /** The variables every process gets. */
  readonly childEnv: NodeJS.ProcessEnv;
  readonly dataDir: string;
  /** What the database is, for the banner. */
  readonly database: string;
}

/** Keys and schema, prepared here once so the processes never race to create them. */
export async function prepareSystem(): Promise<PreparedSystem> {
  const dataDir = path.resolve(env.DATA_DIR || path.join(REPO_ROOT, 'data'));
  const keys = await resolveKeyFiles(env, dataDir);
  const childEnv: NodeJS.ProcessEnv = {
    ...env,
    DATA_DIR: dataDir,
    // Pretty-printing every access line here would halve the gateway: they go to a file
    // (GATEWAY_ACCESS_LOG=stdout shows them here instead).
    GATEWAY_ACCESS_LOG: env.GATEWAY_ACCESS_LOG || path.join(dataDir, 'gateway-access.log'),
    JWT_PUBLIC_KEY_FILE: keys.publicKeyFile,
    JWT_PRIVATE_KEY_FILE: keys.privateKeyFile,
    // The gateway reaches the back ends on the ports they were given here, whatever routes.yaml says.
    GATEWAY_BACKEND_LEGACY_URL: env.GATEWAY_BACKEND_LEGACY_URL || `http://127.0.0.1:${port('LEGACY_PORT', 8001)}`,
    GATEWAY_BACKEND_USERS_URL: env.GATEWAY_BACKEND_USERS_URL || `http://127.0.0.1:${port('USERS_PORT', 8002)}`,
    GATEWAY_BACKEND_THOUGHTS_URL: env.GATEWAY_BACKEND_THOUGHTS_URL || `http://127.0.0.1:${port('THOUGHTS_PORT', 8003)}`,
  };
  const config = await loadServiceConfig({ portVariable: 'LEGACY_PORT', defaultPort: 8001, needsPrivateKey: false }, childEnv);
  const database = await prepareDatabase(config.database, { seedDemoData: config.seedDemoData });
  await database.close();
  return { childEnv, dataDir, database: config.database.kind === 'sqlite' ? `SQLite ${config.database.file}` : 'PostgreSQL' };
}

/**
 * Runs the stages one after another, each under a supervisor of its own (a stage starts once
 * every process of the one before answers its health check and `between` has run), until
 * SIGINT/SIGTERM, which stops the stages in reverse order. Resolves true once all are up.
 */
export async function runSupervised(
  commandName: string,
  stages: readonly (readonly ProcessSpec[])[],
  childEnv: NodeJS.ProcessEnv,
  between: (stage: number) => Promise<void> = async () => {},
): Promise<boolean> {
  const supervisors: Supervisor<ProcessSpec>[] = [];
  let giveUp: GiveUp | null = null;
  let up = false;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    // Later stages stop first (the gateways leave the fleet while etcd still answers); none restarts meanwhile.
    for (const supervisor of supervisors) supervisor.holdRestarts();
    for (const supervisor of [...supervisors].reverse()) await supervisor.stop();
    if (code !== 0 && giveUp)
      process.stderr.write(`${commandName}: ${giveUp.name} failed ${giveUp.failures} times in a row (last: ${giveUp.lastExit}); stopped everything\n`);
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  const prefix = `[${commandName.replace(/^npm (run )?/, '')}]`.padEnd(11);
  try {
    for (const [i, specs] of stages.entries()) {
      if (i > 0) await between(i);
      const supervisor = new Supervisor(
        specs,
        (spec) => startChild(spec, childEnv),
        (line) => process.stdout.write(`${prefix}${line}\n`),
        (failed) => {
          giveUp = failed;
          // Before the system is up there is nothing to keep serving; after, the others go on.
          if (up) process.stdout.write(`${prefix}the others keep running without ${failed.name}; fix it and run ${commandName} again\n`);
          else void stopAll(1);
        },
        restartPolicy(env),
      );
      supervisors.push(supervisor);
      if (!(await supervisor.waitAllHealthy())) return false;
    }
  } catch (error) {
    for (const supervisor of [...supervisors].reverse()) await supervisor.stop();
    throw error;
  }
  up = true;
  return true;
}

/** The "is up" banner: each process's URL and what it is, the public entry first. */
export function printUrls(specs: readonly ProcessSpec[]): void {
  const width = Math.max(...specs.map((s) => s.publicUrl.length));
  for (const spec of [...specs].reverse()) process.stdout.write(`  ${spec.publicUrl.padEnd(width)}  ${spec.what}\n`);
}

interface LogLine {
  msg?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
}

// Access-log lines become one short line each; other fields of a record are still shown.
const pretty = prettyFactory({
  colorize: process.stdout.isTTY,
  singleLine: true,
  ignore: 'pid,hostname,name,req,res,responseTime,reqId',
  translateTime: 'HH:MM:ss',
  messageFormat: (log: LogLine, messageKey: string) =>
    log.req ? `${log.req.method} ${log.req.url} → ${log.res?.statusCode} in ${log.responseTime} ms` : String(log[messageKey as 'msg'] ?? ''),
});

function startChild(spec: ProcessSpec, childEnv: NodeJS.ProcessEnv): ChildProcess {
  const [executable, ...args] = spec.command;
  const child = spawn(executable!, args, {
    cwd: REPO_ROOT,
    env: { ...childEnv, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: spec.ownGroup ?? false,
  });
  const prefix = `[${spec.name}]`.padEnd(11);
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      const text = line.startsWith('{') ? pretty(line).trimEnd() : line;
      process.stdout.write(`${prefix}${text}\n`);
    });
  }
  return child;
}

/** START_MAX_RESTARTS: restarts in a row before a failing process is given up on. */
function restartPolicy(environment: NodeJS.ProcessEnv): RestartPolicy {
  const value = environment.START_MAX_RESTARTS;
  if (value === undefined || value === '') return DEFAULT_RESTART_POLICY;
  const maxRestarts = Number(value);
  if (!Number.isSafeInteger(maxRestarts) || maxRestarts < 0) throw new ConfigError(`START_MAX_RESTARTS must be a whole number, 0 or more (got "${value}")`);
  return { ...DEFAULT_RESTART_POLICY, maxRestarts };
}

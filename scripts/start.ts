// `npm start`: the whole system on the embedded default, one supervisor, prefixed logs.
// Prepares the SQLite database and dev keys once, then starts every process, waits until
// each answers its health check and prints the URLs. A process that dies is restarted with
// backoff while the others keep serving (supervisor.ts). Ctrl-C (or SIGTERM) stops them all.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { prettyFactory } from 'pino-pretty';
import { loadServiceConfig, REPO_ROOT } from '@mythoughts/shared/config';
import { prepareDatabase } from '@mythoughts/shared/db/prepare';
import { ConfigError, runMain } from '@mythoughts/runtime/errors';
import { resolveKeyFiles } from '@mythoughts/shared/keys';
import { DEFAULT_RESTART_POLICY, Supervisor, type GiveUp, type RestartPolicy } from './supervisor.ts';

interface ProcessSpec {
  name: string;
  entry: string[];
  healthUrl: string;
  publicUrl: string;
  what: string;
}

const env = process.env;
const port = (variable: string, fallback: number) => env[variable] || String(fallback);

function processes(): ProcessSpec[] {
  const list: ProcessSpec[] = [
    {
      name: 'legacy',
      entry: ['legacy-monolith/src/main.ts'],
      healthUrl: `http://127.0.0.1:${port('LEGACY_PORT', 8001)}/healthz`,
      publicUrl: `http://127.0.0.1:${port('LEGACY_PORT', 8001)}/`,
      what: 'legacy monolith (HTML site + JSON API)',
    },
    {
      name: 'users',
      entry: ['services/users/src/main.ts'],
      healthUrl: `http://127.0.0.1:${port('USERS_PORT', 8002)}/healthz`,
      publicUrl: `http://127.0.0.1:${port('USERS_PORT', 8002)}/`,
      what: 'users service (Swagger UI)',
    },
    {
      name: 'thoughts',
      entry: ['services/thoughts/src/main.ts'],
      healthUrl: `http://127.0.0.1:${port('THOUGHTS_PORT', 8003)}/healthz`,
      publicUrl: `http://127.0.0.1:${port('THOUGHTS_PORT', 8003)}/`,
      what: 'thoughts service (Swagger UI)',
    },
  ];
  if (existsSync(path.join(REPO_ROOT, 'gateway/src/cli.ts'))) {
    const admin = `http://127.0.0.1:${port('GATEWAY_ADMIN_PORT', 9901)}`;
    list.push({
      name: 'gateway',
      entry: ['gateway/src/cli.ts', 'serve'],
      healthUrl: `${admin}/healthz`,
      publicUrl: `http://127.0.0.1:${port('GATEWAY_PORT', 8080)}/`,
      what: `gateway — the public entry (admin: ${admin}/)`,
    });
  }
  return list;
}

async function main() {
  // Keys and schema are prepared here, once, so the processes never race to create them.
  const dataDir = path.resolve(env.DATA_DIR || path.join(REPO_ROOT, 'data'));
  const keys = await resolveKeyFiles(env, dataDir);
  const childEnv: NodeJS.ProcessEnv = {
    ...env,
    DATA_DIR: dataDir,
    // Pretty-printing every access line here would halve the gateway: they go to a file
    // (GATEWAY_ACCESS_LOG=stdout npm start shows them here instead).
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

  const specs = processes();
  let giveUp: GiveUp | null = null;
  let up = false;
  const supervisor = new Supervisor(
    specs,
    (spec) => startChild(spec, childEnv),
    (line) => process.stdout.write(`${SUPERVISOR_PREFIX}${line}\n`),
    (failed) => {
      giveUp = failed;
      // Before the system is up there is nothing to keep serving; after, the others go on.
      if (up) process.stdout.write(`${SUPERVISOR_PREFIX}the others keep running without ${failed.name}; fix it and run npm start again\n`);
      else void stopAll(1);
    },
    restartPolicy(env),
  );
  const stopAll = async (code: number) => {
    if (supervisor.isStopping) return;
    await supervisor.stop();
    if (code !== 0 && giveUp)
      process.stderr.write(`npm start: ${giveUp.name} failed ${giveUp.failures} times in a row (last: ${giveUp.lastExit}); stopped everything\n`);
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    if (!(await supervisor.waitAllHealthy())) return;
  } catch (error) {
    await supervisor.stop();
    throw error;
  }
  up = true;
  const width = Math.max(...specs.map((s) => s.publicUrl.length));
  process.stdout.write(`\nMyThoughts is up (${config.database.kind === 'sqlite' ? `SQLite ${config.database.file}` : 'PostgreSQL'}):\n`);
  for (const spec of [...specs].reverse()) process.stdout.write(`  ${spec.publicUrl.padEnd(width)}  ${spec.what}\n`);
  if (childEnv.GATEWAY_ACCESS_LOG !== 'stdout' && childEnv.GATEWAY_ACCESS_LOG !== 'off')
    process.stdout.write(`Gateway access log: ${childEnv.GATEWAY_ACCESS_LOG} (GATEWAY_ACCESS_LOG=stdout npm start shows it here).\n`);
  process.stdout.write('Demo users: bruce / password, stephen / password. Ctrl-C stops everything.\n\n');
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
  const child = spawn(process.execPath, ['--import', 'tsx', ...spec.entry], { cwd: REPO_ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `[${spec.name}]`.padEnd(11);
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      const text = line.startsWith('{') ? pretty(line).trimEnd() : line;
      process.stdout.write(`${prefix}${text}\n`);
    });
  }
  return child;
}

const SUPERVISOR_PREFIX = '[start]'.padEnd(11);

/** START_MAX_RESTARTS: restarts in a row before a failing process is given up on. */
function restartPolicy(environment: NodeJS.ProcessEnv): RestartPolicy {
  const value = environment.START_MAX_RESTARTS;
  if (value === undefined || value === '') return DEFAULT_RESTART_POLICY;
  const maxRestarts = Number(value);
  if (!Number.isSafeInteger(maxRestarts) || maxRestarts < 0) throw new ConfigError(`START_MAX_RESTARTS must be a whole number, 0 or more (got "${value}")`);
  return { ...DEFAULT_RESTART_POLICY, maxRestarts };
}

runMain('npm start', main);

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_COHORT_SECRET } from './cohort.ts';

const BIN = fileURLToPath(new URL('../../bin/gateway.mjs', import.meta.url));

export interface Cluster {
  readonly child: ChildProcess;
  readonly url: string;
  readonly adminUrl: string;
  readonly exited: Promise<number | null>;
  /** Every JSON line the primary and its workers wrote to stdout so far. */
  lines(): Record<string, unknown>[];
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

/**
 * `gateway serve` with GATEWAY_WORKERS=2 (and `env` on top) as a process of its own on free
 * ports; resolves once both workers listen and the primary has opened its admin port.
 */
export async function serveWithWorkers(routesFile: string, env: Record<string, string> = {}): Promise<Cluster> {
  const fullEnv: NodeJS.ProcessEnv = {
    ...process.env,
    GATEWAY_WORKERS: '2',
    GATEWAY_ROUTES: routesFile,
    GATEWAY_PORT: '0',
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_ADMIN_PORT: '0',
    GATEWAY_COHORT_SECRET: TEST_COHORT_SECRET,
    LOG_LEVEL: 'info',
    ...env,
  };
  delete fullEnv.JWT_PUBLIC_KEY_FILE;
  const child = spawn(process.execPath, [BIN, 'serve'], { env: fullEnv, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let text = '';
  const lines = () =>
    text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const listening = lines().filter((line) => typeof line.url === 'string' && line.adminUrl === null);
      if (new Set(listening.map((line) => line.pid)).size === 2 && lines().some((line) => line.workers === 2)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}) before its workers listened`)));
  });
  const url = lines().find((line) => line.adminUrl === null)!.url as string;
  const adminUrl = lines().find((line) => line.workers === 2)!.adminUrl as string;
  return {
    child,
    url,
    adminUrl,
    exited,
    lines,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { TEST_COHORT_SECRET } from '../../gateway/test/helpers/cohort.ts';

export const GATEWAY_BIN = path.resolve(import.meta.dirname, '../../gateway/bin/gateway.mjs');

/**
 * `gateway ARGS` as a process of its own (one that can be killed, or one of several replicas),
 * on `routesFile`. The cohort secret is the tests' one, so clients named with cohortCookie keep
 * their side; stderr is piped for waitHealthy to quote.
 */
export function spawnGateway(args: readonly string[], routesFile: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [GATEWAY_BIN, ...args], {
    env: { ...process.env, GATEWAY_ROUTES: routesFile, GATEWAY_COHORT_SECRET: TEST_COHORT_SECRET, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** Sends `signal` (SIGKILL: no goodbye, as a crash or an OOM kill) and waits until the process is gone. */
export async function endProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

/** `gateway ARGS` run to its end (a CLI command), with what it printed and its exit code. */
export async function runGateway(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [GATEWAY_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}

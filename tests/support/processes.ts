import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from './ports.ts';

/**
 * Waits until `url` answers 2xx (bounded). With `child`, fails at once if the process exits,
 * quoting what it wrote to stderr (it must be spawned with stderr piped).
 */
export async function waitHealthy(url: string, child?: ChildProcess, timeoutMs = 30_000): Promise<void> {
  let stderr = '';
  child?.stderr?.on('data', (chunk) => (stderr += chunk));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${url}: the process exited (${child.exitCode}): ${stderr}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet: try again below
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s ${stderr}`);
}

/** A back end running as its own process (so it can be killed, and its real log read). */
export interface BackEndProcess {
  url: string;
  child: ChildProcess;
  /** Everything it wrote to stdout so far (its JSON log lines). */
  output(): string;
}

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Starts a back end's entry point (`services/thoughts/src/main.ts`…) on a free port with
 * `env` (a system's env: its database and keys) and waits until it answers /healthz.
 */
export async function spawnBackEnd(entry: string, portVariable: string, env: NodeJS.ProcessEnv): Promise<BackEndProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, ...env, [portVariable]: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(`${url}/healthz`, child);
  return { url, child, output: () => output };
}

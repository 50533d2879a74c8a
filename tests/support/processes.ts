import type { ChildProcess } from 'node:child_process';

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

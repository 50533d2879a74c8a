import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';

/**
 * Child processes of the bench (nginx, the bare proxy, the gateway): started with their
 * output in a log file, waited for on a loopback port, and always stopped — on success, on
 * an error and on Ctrl-C — so a run never leaves a server behind.
 */
export interface Server {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly logFile: string;
  /** Settles when the process has exited: its exit code, or the signal that ended it. */
  readonly exited: Promise<number | string>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

export interface StartSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly port: number;
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly readyTimeoutMs?: number;
}

export async function startServer(spec: StartSpec): Promise<Server> {
  const log = openSync(spec.logFile, 'a');
  const child = spawn(spec.command, [...spec.args], {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  running.add(child);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (error) => {
      running.delete(child);
      resolve(error.message);
    });
  });
  const stop = () => stopChild(child, exited);
  const deadline = Date.now() + (spec.readyTimeoutMs ?? 30_000);
  for (;;) {
    const early = await Promise.race([exited, delay(100).then(() => null)]);
    if (early !== null) {
      throw new Error(`${spec.name} exited (${early}) before listening on 127.0.0.1:${spec.port}:\n${tail(spec.logFile)}`);
    }
    if (await canConnect(spec.port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${spec.name} did not listen on 127.0.0.1:${spec.port} within ${spec.readyTimeoutMs ?? 30_000} ms:\n${tail(spec.logFile)}`);
    }
  }
  return { name: spec.name, pid: child.pid!, port: spec.port, logFile: spec.logFile, exited, stop };
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), delay(5_000).then(() => false)]);
  if (!done) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Last resort when the bench itself is interrupted: kill whatever is still running. */
export function killAllSync(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((l) => `  | ${l}`)
      .join('\n');
  } catch {
    return '  | (no output)';
  }
}

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { REPO_ROOT } from './paths.ts';
import { toolVersions, type ToolVersions } from './tools.ts';

/** What the numbers were measured on: they mean little without it. */
export interface MachineInfo {
  readonly date: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly loadAverage: string;
  readonly node: string;
  readonly httpProxy3: string;
  /** Versions of the Node peer's packages (fastify, @fastify/http-proxy) and of undici. */
  readonly packages: string;
  readonly tools: ToolVersions;
  readonly commit: string;
}

export function machineInfo(): MachineInfo {
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpus: Number(safe(() => execFileSync('nproc', { encoding: 'utf8' }).trim())) || os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    loadAverage: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    node: process.version,
    httpProxy3: versionOf('http-proxy-3'),
    packages: ['undici', 'fastify', '@fastify/http-proxy'].map((name) => `${name} ${versionOf(name)}`).join(', '),
    tools: toolVersions(),
    // Read only: which gateway code was measured (and whether it had uncommitted changes).
    commit: safe(() => {
      const head = execFileSync('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
      const dirty = execFileSync('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--', 'gateway'], { encoding: 'utf8' }).trim() !== '';
      return dirty ? `${head} + uncommitted gateway changes` : head;
    }),
  };
}

function safe(read: () => string): string {
  try {
    return read();
  } catch {
    return 'unknown';
  }
}

function versionOf(pkg: string): string {
  return safe(() => (JSON.parse(readFileSync(`${REPO_ROOT}/node_modules/${pkg}/package.json`, 'utf8')) as { version: string }).version);
}

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { backendHttpBlock } from './backendNginxConfig.ts';
import { makeClients, makeJwtKeys } from './clients.ts';
import { foldProfile, stageMs, STAGES, type CpuProfile, type Stage } from './cpuProfile.ts';
import { flameGraphSvg } from './flameGraph.ts';
import { startGatewayProcess } from './gatewayProcess.ts';
import { startNginx } from './nginx.ts';
import { REPO_ROOT } from './paths.ts';
import { cpuSeconds, threadCpuSeconds } from './procStats.ts';
import { delay, freePort, type Server } from './processes.ts';
import { LOAD_PATH, writeGatewayRoutes, type BackendUrls } from './routesFile.ts';
import { startNodeProxy } from './stand.ts';
import { runWrk } from './wrk.ts';

/**
 * Where a request's CPU goes: the gateway (every default feature on) and the bare undici
 * pass-through, each run under `node --cpu-prof` and loaded with wrk -c50 as in the rounds;
 * each one's samples of the wrk run are folded into a flame graph (bench/flamegraph-*.svg)
 * and split by request-path stage into µs per request. The profiler sees the main thread:
 * what the process's other threads (GC helpers, the compiler, libuv) use shows as the gap
 * between the main-thread total and the /proc total.
 */
export interface ProfiledTarget {
  readonly name: string;
  readonly requests: number;
  readonly requestsPerSecond: number;
  /** User+system CPU of the whole process per request, from /proc (as in the rounds). */
  readonly cpuUsPerRequest: number;
  /** CPU time of the main thread per request, from /proc. */
  readonly mainThreadUsPerRequest: number;
  readonly stageUs: ReadonlyMap<Stage, number>;
  /** The flame graph, relative to the repository. */
  readonly svg: string;
}

export interface ProfileResult {
  readonly connections: number;
  readonly seconds: number;
  readonly targets: readonly ProfiledTarget[];
}

const PROFILE_INTERVAL_US = 250;

export async function runProfiles(tmpDir: string, seconds: number, connections: number, log: (line: string) => void): Promise<ProfileResult> {
  const ports = { legacy: await freePort(), new: await freePort() };
  const urls: BackendUrls = { legacy: `http://127.0.0.1:${ports.legacy}`, new: `http://127.0.0.1:${ports.new}`, slow: 'http://127.0.0.1:9' };
  const backends = await startNginx('profile-backends', tmpDir, backendHttpBlock(ports), ports.legacy);
  const targets: ProfiledTarget[] = [];
  try {
    const clients = makeClients(tmpDir, 'cookies', makeJwtKeys(tmpDir));
    const starters: Record<string, (nodeArgs: string[]) => Promise<Server>> = {
      gateway: async (nodeArgs) =>
        startGatewayProcess({
          name: 'profile-gateway',
          port: await freePort(),
          adminPort: await freePort(),
          routesFile: writeGatewayRoutes(tmpDir, urls, 'plan'),
          tmpDir,
          env: {},
          probePath: LOAD_PATH,
          nodeArgs,
        }),
      'bare-undici': (nodeArgs) => startNodeProxy('profile-bare-undici', 'bareUndici.ts', tmpDir, urls, nodeArgs),
    };
    for (const [name, start] of Object.entries(starters)) {
      const dir = path.join(tmpDir, `cpu-profile-${name}`);
      const server = await start(['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', String(PROFILE_INTERVAL_US)]);
      let stopped = false;
      try {
        const url = `http://127.0.0.1:${server.port}${LOAD_PATH}`;
        await runWrk(url, connections, 2, clients.headersFile); // warm-up: JIT, pools
        const cpuBefore = cpuSeconds(server.pid);
        const mainBefore = threadCpuSeconds(server.pid);
        const startedAt = performance.now();
        const load = await runWrk(url, connections, seconds, clients.headersFile);
        const endedAt = performance.now();
        const cpu = cpuSeconds(server.pid) - cpuBefore;
        const mainThread = threadCpuSeconds(server.pid) - mainBefore;
        await server.stop(); // SIGTERM: the process exits normally and node writes the profile
        stopped = true;
        const exitedAt = performance.now();
        const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
        if (!file) throw new Error(`${name} wrote no CPU profile in ${dir}`);
        const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
        const folded = foldProfile(profile, { fromEndMs: exitedAt - endedAt, lengthMs: endedAt - startedAt });
        const svg = `bench/flamegraph-${name}.svg`;
        const title = `${name} under wrk -t1 -c${connections}, ${seconds} s: ${Math.round(load.requestsPerSecond)} req/s, main thread busy ${((100 * folded.busyMs) / folded.windowMs).toFixed(0)} %`;
        writeFileSync(path.join(REPO_ROOT, svg), flameGraphSvg(folded, title));
        writeFileSync(path.join(tmpDir, `${name}.folded`), [...folded.stacks].map(([stack, ms]) => `${stack} ${Math.round(ms * 1000)}`).join('\n'));
        // The profiler samples wall time while the thread is busy, preempted or not: its shares
        // of the busy samples, applied to the main thread's CPU time from /proc, give each stage.
        const mainUsPerRequest = (mainThread * 1e6) / Math.max(1, load.requests);
        const stageUs = new Map([...stageMs(folded)].map(([stage, ms]) => [stage, (mainUsPerRequest * ms) / Math.max(1e-9, folded.busyMs)] as const));
        targets.push({
          name,
          requests: load.requests,
          requestsPerSecond: load.requestsPerSecond,
          cpuUsPerRequest: (cpu * 1e6) / Math.max(1, load.requests),
          mainThreadUsPerRequest: mainUsPerRequest,
          stageUs,
          svg,
        });
        log(`profile ${name}: ${Math.round(load.requestsPerSecond)} req/s, ${targets.at(-1)!.cpuUsPerRequest.toFixed(0)} µs CPU/req, flame graph ${svg}`);
      } finally {
        if (!stopped) await server.stop();
        await delay(300);
      }
    }
  } finally {
    await backends.stop();
  }
  return { connections, seconds, targets };
}

/** The per-stage table: µs of main-thread CPU per request, gateway beside the bare pass-through. */
export function formatProfile(result: ProfileResult): string {
  const names = result.targets.map((t) => t.name);
  const us = (v: number | undefined) => (v === undefined || v < 0.05 ? '–' : v.toFixed(1));
  const lines = [
    `| stage | ${names.map((n) => `${n} µs/req`).join(' | ')} |`,
    `|---|${names.map(() => '---:').join('|')}|`,
    ...STAGES.map((s) => `| ${s.stage} | ${result.targets.map((t) => us(t.stageUs.get(s.stage))).join(' | ')} |`),
    `| **main thread, total** | ${result.targets.map((t) => `**${t.mainThreadUsPerRequest.toFixed(1)}**`).join(' | ')} |`,
    `| other threads (GC helpers, compiler, libuv): /proc total − main thread | ${result.targets.map((t) => us(t.cpuUsPerRequest - t.mainThreadUsPerRequest)).join(' | ')} |`,
    `| **process CPU (/proc), total** | ${result.targets.map((t) => `**${t.cpuUsPerRequest.toFixed(1)}**`).join(' | ')} |`,
    `| req/s under the profiler | ${result.targets.map((t) => Math.round(t.requestsPerSecond).toLocaleString('en')).join(' | ')} |`,
  ];
  return lines.join('\n');
}

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
 * each one's samples of the wrk run (placed from the process's start) are folded into a flame graph (bench/flamegraph-*.svg)
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
  /** The c200 run of the same process without the profiler, with the event-loop delay and GC pauses recorded. */
  readonly overload: OverloadDiagnosis;
}

/** What the event loop went through during a c200 run (bench/loopDelay.ts, preloaded). */
export interface OverloadDiagnosis {
  readonly requestsPerSecond: number;
  readonly p99Ms: number;
  readonly timeouts: number;
  readonly loop: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
  readonly gc: Readonly<Record<string, { readonly count: number; readonly totalMs: number; readonly maxMs: number }>>;
}

export interface ProfileResult {
  readonly connections: number;
  readonly overloadConnections: number;
  readonly seconds: number;
  readonly targets: readonly ProfiledTarget[];
}

const PROFILE_INTERVAL_US = 250;
const LOOP_DELAY = path.join(REPO_ROOT, 'bench', 'loopDelay.ts');

/** A c200 run of a freshly started process with bench/loopDelay.ts preloaded (no profiler): its tail, and what the event loop went through. */
async function diagnoseOverload(server: Server, connections: number, seconds: number, headersFile: string): Promise<OverloadDiagnosis> {
  try {
    const url = `http://127.0.0.1:${server.port}${LOAD_PATH}`;
    await runWrk(url, 50, 2, headersFile); // warm-up, as the rounds' c50 run before their c200 one
    process.kill(server.pid, 'SIGUSR2');
    const load = await runWrk(url, connections, seconds, headersFile);
    process.kill(server.pid, 'SIGUSR2');
    let line: string | undefined;
    for (let i = 0; i < 20 && line === undefined; i++) {
      await delay(100);
      line = readFileSync(server.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('LOOP-DELAY '))
        .at(-1);
    }
    if (line === undefined) throw new Error(`${server.name} wrote no LOOP-DELAY line to ${server.logFile}`);
    const report = JSON.parse(line.slice('LOOP-DELAY '.length)) as Pick<OverloadDiagnosis, 'gc'> & OverloadDiagnosis['loop'];
    return {
      requestsPerSecond: load.requestsPerSecond,
      p99Ms: load.p99Ms,
      timeouts: load.timeouts,
      loop: { p50Ms: report.p50Ms, p99Ms: report.p99Ms, maxMs: report.maxMs },
      gc: report.gc,
    };
  } finally {
    await server.stop();
  }
}

export async function runProfiles(
  tmpDir: string,
  seconds: number,
  connections: number,
  overloadConnections: number,
  log: (line: string) => void,
): Promise<ProfileResult> {
  const ports = { legacy: await freePort(), new: await freePort() };
  const urls: BackendUrls = { legacy: `http://127.0.0.1:${ports.legacy}`, new: `http://127.0.0.1:${ports.new}`, slow: 'http://127.0.0.1:9' };
  const backends = await startNginx('profile-backends', tmpDir, backendHttpBlock(ports), ports.legacy);
  const targets: ProfiledTarget[] = [];
  try {
    const keys = makeJwtKeys(tmpDir);
    const clients = makeClients(tmpDir, 'cookies', keys);
    const starters: Record<string, (nodeArgs: string[]) => Promise<Server>> = {
      gateway: async (nodeArgs) =>
        startGatewayProcess({
          name: 'profile-gateway',
          port: await freePort(),
          adminPort: await freePort(),
          routesFile: writeGatewayRoutes(tmpDir, urls, 'plan'),
          tmpDir,
          env: { JWT_PUBLIC_KEY_FILE: keys.publicKeyFile }, // as in the rounds
          probePath: LOAD_PATH,
          nodeArgs,
        }),
      'bare-undici': (nodeArgs) => startNodeProxy('profile-bare-undici', 'bareUndici.ts', tmpDir, urls, nodeArgs),
    };
    for (const [name, start] of Object.entries(starters)) {
      const dir = path.join(tmpDir, `cpu-profile-${name}`);
      const spawnedAt = performance.now();
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
        const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
        if (!file) throw new Error(`${name} wrote no CPU profile in ${dir}`);
        const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
        // The profile starts with the process (a few ms after the spawn): the wrk run's place in it.
        const folded = foldProfile(profile, { fromStartMs: startedAt - spawnedAt, lengthMs: endedAt - startedAt });
        const svg = `bench/flamegraph-${name}.svg`;
        const title = `${name} under wrk -t1 -c${connections}, ${seconds} s: ${Math.round(load.requestsPerSecond)} req/s, main thread busy ${((100 * folded.busyMs) / folded.windowMs).toFixed(0)} %`;
        writeFileSync(path.join(REPO_ROOT, svg), flameGraphSvg(folded, title));
        writeFileSync(path.join(tmpDir, `${name}.folded`), [...folded.stacks].map(([stack, ms]) => `${stack} ${Math.round(ms * 1000)}`).join('\n'));
        // The profiler samples wall time while the thread is busy, preempted or not: its shares
        // of the busy samples, applied to the main thread's CPU time from /proc, give each stage.
        const mainUsPerRequest = (mainThread * 1e6) / Math.max(1, load.requests);
        const stageUs = new Map([...stageMs(folded)].map(([stage, ms]) => [stage, (mainUsPerRequest * ms) / Math.max(1e-9, folded.busyMs)] as const));
        await delay(300);
        const overload = await diagnoseOverload(await start(['--import', 'tsx', '--import', LOOP_DELAY]), overloadConnections, seconds, clients.headersFile);
        targets.push({
          name,
          requests: load.requests,
          requestsPerSecond: load.requestsPerSecond,
          cpuUsPerRequest: (cpu * 1e6) / Math.max(1, load.requests),
          mainThreadUsPerRequest: mainUsPerRequest,
          stageUs,
          svg,
          overload,
        });
        log(
          `profile ${name}: ${Math.round(load.requestsPerSecond)} req/s, ${targets.at(-1)!.cpuUsPerRequest.toFixed(0)} µs CPU/req, flame graph ${svg}; c${overloadConnections}: p99 ${overload.p99Ms.toFixed(1)} ms, loop delay max ${overload.loop.maxMs} ms`,
        );
      } finally {
        if (!stopped) await server.stop();
        await delay(300);
      }
    }
  } finally {
    await backends.stop();
  }
  return { connections, overloadConnections, seconds, targets };
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
  const gcText = (t: ProfiledTarget) =>
    Object.entries(t.overload.gc)
      .map(([kind, g]) => `${kind} ${g.count}× (${g.totalMs.toFixed(0)} ms, max ${g.maxMs.toFixed(1)} ms)`)
      .join('; ') || 'none';
  lines.push(
    '',
    `The c${result.overloadConnections} tail: each process started again without the profiler, with bench/loopDelay.ts preloaded (event-loop delay histogram, every GC pause), 2 s of c50, then wrk -t1 -c${result.overloadConnections} for ${result.seconds} s:`,
    '',
    `| | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---:').join('|')}|`,
    `| req/s c${result.overloadConnections} | ${result.targets.map((t) => Math.round(t.overload.requestsPerSecond).toLocaleString('en')).join(' | ')} |`,
    `| p99 ms (timeouts) | ${result.targets.map((t) => `${t.overload.p99Ms.toFixed(1)} (${t.overload.timeouts})`).join(' | ')} |`,
    `| event-loop delay p50 / p99 / max ms | ${result.targets.map((t) => `${t.overload.loop.p50Ms} / ${t.overload.loop.p99Ms} / ${t.overload.loop.maxMs}`).join(' | ')} |`,
    `| GC pauses on the main thread | ${result.targets.map(gcText).join(' | ')} |`,
    `| GC share of the run | ${result.targets.map((t) => `${((100 * Object.values(t.overload.gc).reduce((sum, g) => sum + g.totalMs, 0)) / (result.seconds * 1000)).toFixed(1)} %`).join(' | ')} |`,
  );
  return lines.join('\n');
}

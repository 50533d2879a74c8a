/**
 * `npm run bench`: the gateway against nginx and a bare http-proxy-3 pass-through, on this
 * machine's loopback, in one run of interleaved rounds; the feature costs; route scaling;
 * optionally an RSS soak. Writes bench/RESULTS.md. Installs nothing: it checks for wrk,
 * nginx and hey and says how to install what is missing. `npm run bench -- --help`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { evaluateGoals } from './goals.ts';
import { machineInfo } from './machine.ts';
import { HELP, parseOptions, UsageError, type BenchOptions } from './options.ts';
import { REPO_ROOT } from './paths.ts';
import { killAllSync } from './processes.ts';
import { renderReport } from './report.ts';
import { runRounds, type Sample } from './rounds.ts';
import type { ScalingResult } from './routeScaling.ts';
import { runSoak, type SoakResult } from './soak.ts';
import { startStand, targetNames, type Stand } from './stand.ts';
import { summarise } from './summary.ts';
import { installHint, missingTools } from './tools.ts';
import { runWebSockets, type WebSocketResult } from './websockets.ts';
import { runProfiles, type ProfileResult } from './profile.ts';
import { BASELINE } from './variants.ts';

const ROUTE_SCALING = 'route-scaling';
const WEBSOCKETS = 'websockets';
const PROFILE = 'profile';

function log(line: string): void {
  process.stdout.write(`bench ${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

async function main(argv: string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(argv);
    const known = [...targetNames(), ROUTE_SCALING, WEBSOCKETS, PROFILE];
    const unknown = options.only.filter((name) => !known.includes(name));
    if (unknown.length) throw new UsageError(`--only: unknown ${unknown.join(', ')}; known: ${known.join(', ')}`);
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const missing = missingTools();
  if (missing.length > 0) {
    process.stderr.write(`${installHint(missing)}\n`);
    return 1;
  }

  const selected = (name: string) => options.only.length === 0 || options.only.includes(name);
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'gateway-bench-'));
  const cleanUpTemp = () => (options.keepTemp ? log(`kept ${tmpDir}`) : rmSync(tmpDir, { recursive: true, force: true }));
  // Whatever ends this process (an exception, a closed stdout pipe), its servers end with it.
  process.on('exit', killAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllSync();
      cleanUpTemp();
      process.stderr.write(`bench: interrupted (${signal}); every server it started is stopped\n`);
      process.exit(130);
    });
  }

  const started = Date.now();
  let stand: Stand | null = null;
  let samples: Sample[] = [];
  let soak: SoakResult | null = null;
  let scaling: ScalingResult | null = null;
  let websockets: WebSocketResult | null = null;
  let websocketsFailure: string | null = null;
  let profile: ProfileResult | null = null;
  try {
    const proxies = targetNames().filter((name) => name !== 'direct' && selected(name));
    if (proxies.length > 0 || options.soak > 0) {
      log(`temp dir ${tmpDir}`);
      stand = await startStand(tmpDir, (name) => selected(name) || (options.soak > 0 && name === BASELINE), log);
      samples = await runRounds(stand.targets, options, log);
      if (options.soak > 0) {
        const target = stand.targets.find((t) => t.name === BASELINE);
        if (!target) throw new Error('the soak needs the gateway, which is not available (see above)');
        log(`soak: ${options.soak} s of wrk -c${options.connections} on ${target.name}`);
        soak = await runSoak(target, options.soak, options.connections, log);
      }
    }
  } finally {
    await stand?.stop();
    killAllSync();
  }
  if (selected(WEBSOCKETS)) {
    try {
      websockets = await runWebSockets(tmpDir, 1_000, 10, log);
      log(
        `websockets: ${websockets.echoed} echoed, ${websockets.lost} lost, ${websockets.failedConnections} connections failed in ${websockets.seconds.toFixed(1)} s`,
      );
    } catch (error) {
      websocketsFailure = (error as Error).message.split('\n')[0]!;
      log(`websockets: ${websocketsFailure}`);
    } finally {
      killAllSync();
    }
  }
  let profileFailure: string | null = null;
  if (selected(PROFILE)) {
    try {
      log(
        `profile: the gateway and the bare undici pass-through under node --cpu-prof and wrk -c${options.connections}, then at c${options.saturationConnections} with the event-loop delay recorded, ${options.duration} s each`,
      );
      profile = await runProfiles(tmpDir, options.duration, options.connections, options.saturationConnections, log);
    } catch (error) {
      // The rounds' results stand without it: the report says why the table is missing.
      profileFailure = (error as Error).message.split('\n')[0]!;
      log(`profile: ${profileFailure}`);
    } finally {
      killAllSync();
    }
  }
  try {
    if (selected(ROUTE_SCALING)) {
      log('route scaling: 10 / 1 000 / 10 000 routes (a child process, so the first load is a cold one)');
      scaling = await runRouteScalingChild();
    }
    const summaries = summarise(samples);
    const goals = evaluateGoals({
      summaries,
      samples,
      scaling,
      soak,
      websockets,
      rate: options.rate,
      overloadConnections: options.saturationConnections,
      connections: options.connections,
    });
    const report = renderReport({
      machine: machineInfo(),
      settings: options,
      command: ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' '),
      targets: stand?.targets ?? [],
      unavailable: [
        ...(stand?.unavailable ?? []),
        ...(websocketsFailure === null ? [] : [{ name: WEBSOCKETS, reason: websocketsFailure }]),
        ...(profileFailure === null ? [] : [{ name: PROFILE, reason: profileFailure }]),
      ],
      samples,
      summaries,
      goals,
      scaling,
      soak,
      profile,
      elapsedSeconds: (Date.now() - started) / 1000,
    });
    const out = path.resolve(REPO_ROOT, options.out);
    writeFileSync(out, report);
    for (const g of goals) log(`${g.status === 'met' ? 'met         ' : g.status === 'not met' ? 'NOT MET     ' : 'not measured'}  ${g.goal}: ${g.measured}`);
    log(`wrote ${path.relative(process.cwd(), out) || out}`);
  } finally {
    cleanUpTemp();
  }
  return 0;
}

function runRouteScalingChild(): Promise<ScalingResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'bench', 'routeScaling.ts'), '--json'],
      { cwd: REPO_ROOT, timeout: 300_000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('BENCH-JSON '));
        if (error || !line) reject(new Error(`bench/routeScaling.ts failed: ${error?.message ?? 'no result'}\n${stderr}`));
        else resolve(JSON.parse(line.slice('BENCH-JSON '.length)) as ScalingResult);
      },
    );
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    killAllSync();
    process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);

import { runFixedRate, type FixedRateResult } from './hey.ts';
import { cpuSeconds, memory, resetPeak } from './procStats.ts';
import { delay } from './processes.ts';
import type { Target } from './stand.ts';
import { runWrk, type WrkResult } from './wrk.ts';

/** What one round measured on one target. */
export interface Sample {
  readonly round: number;
  readonly target: string;
  /** wrk -t1 -c<connections>: throughput and latency at saturation. */
  readonly saturation: WrkResult;
  /** CPU time of the target's process during the saturation run, per request (µs); null for direct. */
  readonly cpuUsPerRequest: number | null;
  /** hey at the fixed rate: the latency a moderately loaded proxy adds. */
  readonly fixedRate: FixedRateResult | null;
  /** wrk -t1 -c<saturation>: overload behaviour (timeouts, tail). */
  readonly overload: WrkResult | null;
  /** VmHWM of the target's process tree over this round's runs (bytes): the peak under load, start-up excluded. */
  readonly peakRss: number | null;
}

export interface RoundSettings {
  readonly rounds: number;
  /** Seconds per measurement (each c50 run, each fixed-rate run, each c200 run). */
  readonly duration: number;
  readonly connections: number;
  readonly saturationConnections: number;
  /** Requests per second of the fixed-rate (added latency) runs. */
  readonly rate: number;
  readonly warmup: number;
}

const SETTLE_MS = 500;

/**
 * Interleaved rounds: every round measures every target once, starting one target later than
 * the round before, and every other round in reverse order, so slow drifts of a shared machine
 * (other load, thermal, page cache) spread over all targets instead of biasing the ones
 * measured last — and no target always follows the same one (a gateway measured right after
 * a bare proxy inherits its warm caches and its leftover connections).
 */
export async function runRounds(targets: readonly Target[], settings: RoundSettings, log: (line: string) => void): Promise<Sample[]> {
  if (settings.warmup > 0) {
    for (const target of targets) {
      log(`warm-up ${target.name} (${settings.warmup} s)`);
      await runWrk(target.url, settings.connections, settings.warmup, target.clients.headersFile);
      await delay(SETTLE_MS);
    }
  }
  const samples: Sample[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    const offset = (round - 1) % targets.length;
    const rotated = [...targets.slice(offset), ...targets.slice(0, offset)];
    const order = round % 2 === 0 ? rotated.reverse() : rotated;
    for (const target of order) {
      const sample = await measure(target, round, settings);
      samples.push(sample);
      log(describe(sample, settings));
    }
  }
  return samples;
}

async function measure(target: Target, round: number, s: RoundSettings): Promise<Sample> {
  if (target.pid !== null) resetPeak(target.pid);
  const cpuBefore = target.pid === null ? 0 : cpuSeconds(target.pid);
  const saturation = await runWrk(target.url, s.connections, s.duration, target.clients.headersFile);
  const cpuUsPerRequest = target.pid === null ? null : ((cpuSeconds(target.pid) - cpuBefore) * 1e6) / Math.max(1, saturation.requests);
  await delay(SETTLE_MS);
  let fixedRate: FixedRateResult | null = null;
  if (target.fixedRate) {
    fixedRate = await runFixedRate(target.url, s.rate, s.duration, target.clients.fixedRateHeader);
    await delay(SETTLE_MS);
  }
  let overload: WrkResult | null = null;
  if (target.overload) {
    overload = await runWrk(target.url, s.saturationConnections, s.duration, target.clients.headersFile);
    await delay(SETTLE_MS);
  }
  const peakRss = target.pid === null ? null : memory(target.pid).peak;
  return { round, target: target.name, saturation, cpuUsPerRequest, fixedRate, overload, peakRss };
}

function describe(x: Sample, s: RoundSettings): string {
  const parts = [
    `round ${x.round} ${x.target.padEnd(20)}`,
    `c${s.connections} ${Math.round(x.saturation.requestsPerSecond)} req/s p50 ${x.saturation.p50Ms.toFixed(2)} p99 ${x.saturation.p99Ms.toFixed(2)} ms`,
  ];
  if (x.cpuUsPerRequest !== null) parts.push(`cpu ${x.cpuUsPerRequest.toFixed(0)} µs/req`);
  if (x.fixedRate) parts.push(`@${s.rate}/s p50 ${x.fixedRate.p50Ms.toFixed(1)} p99 ${x.fixedRate.p99Ms.toFixed(1)} ms`);
  if (x.overload) parts.push(`c${s.saturationConnections} p99 ${x.overload.p99Ms.toFixed(1)} ms, ${x.overload.timeouts} timeouts`);
  if (x.peakRss !== null) parts.push(`rss ${(x.peakRss / 2 ** 20).toFixed(0)} MB`);
  return parts.join(' | ');
}

import { memory } from './procStats.ts';
import type { Target } from './stand.ts';
import { runWrk, type WrkResult } from './wrk.ts';

/**
 * The RSS-growth check: the gateway under saturation (wrk -c50) for `seconds`, its RSS read
 * every 5 s. Growth = RSS at the end over the RSS once warm (after the first fifth), so the
 * JIT and the pools filling up early do not count as a leak.
 */
export interface SoakResult {
  readonly target: string;
  readonly seconds: number;
  readonly requests: number;
  readonly warmRssMb: number;
  readonly endRssMb: number;
  readonly peakRssMb: number;
  readonly growth: number;
  readonly samplesMb: readonly number[];
  readonly load: WrkResult;
}

export async function runSoak(target: Target, seconds: number, connections: number, log: (line: string) => void): Promise<SoakResult> {
  if (target.pid === null) throw new Error('the soak needs a target process');
  const pid = target.pid;
  const samples: { at: number; rss: number }[] = [];
  const started = Date.now();
  const sample = () => samples.push({ at: (Date.now() - started) / 1000, rss: memory(pid).current });
  sample();
  const timer = setInterval(() => {
    sample();
    const last = samples[samples.length - 1]!;
    if (Math.round(last.at) % 30 < 5) log(`soak ${target.name} ${last.at.toFixed(0)} s: RSS ${(last.rss / 2 ** 20).toFixed(1)} MB`);
  }, 5_000);
  let load: WrkResult;
  try {
    load = await runWrk(target.url, connections, seconds, target.clients.headersFile);
  } finally {
    clearInterval(timer);
  }
  sample();
  const warmFrom = seconds / 5;
  const warm = samples.find((s) => s.at >= warmFrom) ?? samples[0]!;
  const end = samples[samples.length - 1]!;
  return {
    target: target.name,
    seconds,
    requests: load.requests,
    warmRssMb: warm.rss / 2 ** 20,
    endRssMb: end.rss / 2 ** 20,
    peakRssMb: memory(pid).peak / 2 ** 20,
    growth: (end.rss - warm.rss) / warm.rss,
    samplesMb: samples.map((s) => Math.round((s.rss / 2 ** 20) * 10) / 10),
    load,
  };
}

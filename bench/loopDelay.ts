/**
 * Preloaded into a profiled proxy (`node --import ./bench/loopDelay.ts …`) for the c200
 * diagnosis: the event-loop delay histogram (perf_hooks, 1 ms resolution) and every GC pause
 * by kind, from the moment the bench sends SIGUSR2 until the next SIGUSR2, which writes them
 * as one `LOOP-DELAY {json}` line to stderr (the process's log file) and starts afresh.
 */
import { writeSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
let pauses = new Map<string, { count: number; totalMs: number; maxMs: number }>();
new PerformanceObserver((list) => {
  for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
    const kind = KINDS[entry.detail?.kind ?? -1] ?? 'other';
    const seen = pauses.get(kind) ?? { count: 0, totalMs: 0, maxMs: 0 };
    seen.count += 1;
    seen.totalMs += entry.duration;
    seen.maxMs = Math.max(seen.maxMs, entry.duration);
    pauses.set(kind, seen);
  }
}).observe({ entryTypes: ['gc'] });

process.on('SIGUSR2', () => {
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const report = { p50Ms: ms(delay.percentile(50)), p99Ms: ms(delay.percentile(99)), maxMs: ms(delay.max), gc: Object.fromEntries(pauses) };
  writeSync(2, `LOOP-DELAY ${JSON.stringify(report)}\n`);
  delay.reset();
  pauses = new Map();
});

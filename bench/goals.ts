import type { ScalingResult } from './routeScaling.ts';
import type { SoakResult } from './soak.ts';
import type { TargetSummary } from './summary.ts';
import { BASELINE } from './variants.ts';

/** One target of issue 7, judged on this run's numbers. */
export interface GoalRow {
  readonly goal: string;
  readonly measured: string;
  readonly status: 'met' | 'not met' | 'not measured';
}

export interface GoalInputs {
  readonly summaries: ReadonlyMap<string, TargetSummary>;
  readonly scaling: ScalingResult | null;
  readonly soak: SoakResult | null;
  readonly rate: number;
  readonly overloadConnections: number;
  readonly connections: number;
}

const ms = (v: number) => `${v.toFixed(2)} ms`;

export function evaluateGoals(x: GoalInputs): GoalRow[] {
  const gw = x.summaries.get(BASELINE);
  const nginx = x.summaries.get('nginx');
  const bare = x.summaries.get('bare');
  const shadow = x.summaries.get('gateway-shadow');
  const rows: GoalRow[] = [];
  const judge = (goal: string, value: number | null | undefined, limit: number, kind: 'min' | 'max', show: (v: number) => string, why = 'not measured in this run') => {
    if (value === null || value === undefined || Number.isNaN(value)) rows.push({ goal, measured: why, status: 'not measured' });
    else rows.push({ goal, measured: show(value), status: (kind === 'min' ? value >= limit : value <= limit) ? 'met' : 'not met' });
  };
  const gwMissing = gw ? undefined : 'gateway not measured (see "Not measured")';

  judge(`gateway (all features) ≥ 0.25 × nginx req/s (c${x.connections}, 1 process vs 1 worker)`, gw?.ratioToNginx, 0.25, 'min',
    (v) => `${v.toFixed(2)} × (${fmt(gw!.requestsPerSecond)} vs ${fmt(nginx?.requestsPerSecond ?? NaN)} req/s)`, gwMissing);
  judge('gateway (all features) ≥ 0.9 × bare http-proxy-3 (features cost ≤ 10 %)', gw?.ratioToBare, 0.9, 'min',
    (v) => `${v.toFixed(2)} × (${fmt(gw!.requestsPerSecond)} vs ${fmt(bare?.requestsPerSecond ?? NaN)} req/s)`, gwMissing);
  judge(`added latency over direct at ${x.rate} req/s: p50 ≤ 1.5 ms`, gw?.fixedRate?.addedP50Ms, 1.5, 'max',
    (v) => `+${ms(v)} (${ms(gw!.fixedRate!.p50Ms)} vs direct)`, gwMissing);
  judge(`added latency over direct at ${x.rate} req/s: p99 ≤ 3 ms`, gw?.fixedRate?.addedP99Ms, 3, 'max',
    (v) => `+${ms(v)} (${ms(gw!.fixedRate!.p99Ms)} vs direct)`, gwMissing);
  judge(`saturation with ${x.overloadConnections} connections: zero timeouts`, gw?.overload ? gw.overload.timeouts + gw.overload.errors : undefined, 0, 'max',
    () => `${gw!.overload!.timeouts} timeouts, ${gw!.overload!.errors} errors (all rounds)`, gwMissing);
  judge(`saturation with ${x.overloadConnections} connections: p99 ≤ 60 ms`, gw?.overload?.p99Ms, 60, 'max', ms, gwMissing);
  judge('peak RSS under load ≤ 150 MB', gw?.peakRssMb, 150, 'max', (v) => `${v.toFixed(0)} MB (VmHWM)`, gwMissing);
  const soakGoal = 'no RSS growth over a 5-minute soak (within 10 %)';
  if (x.soak && x.soak.seconds < 300) {
    rows.push({ goal: soakGoal, measured: `${soakText(x.soak)}; a soak shorter than 300 s does not count`, status: 'not measured' });
  } else {
    judge(soakGoal, x.soak ? x.soak.growth * 100 : null, 10, 'max', () => soakText(x.soak!), 'not run (npm run bench -- --only gateway --soak 300)');
  }
  const at1000 = x.scaling?.rows.find((r) => r.routes === 1_000);
  judge('matching cost per request ≤ 5 µs at 1 000 routes', at1000?.matchUs, 5, 'max',
    (v) => `${v.toFixed(2)} µs (${at1000!.normaliseAndMatchUs.toFixed(2)} µs with path normalisation)`, 'route scaling not run');
  judge('a 1 000-route file validates and loads in < 200 ms', at1000?.loadColdMs, 200, 'max',
    (v) => `${v.toFixed(0)} ms first load, ${at1000!.loadWarmMs === null || Number.isNaN(at1000!.loadWarmMs) ? '–' : at1000!.loadWarmMs.toFixed(0)} ms on reload`, 'route scaling not run');
  const shadowRatio = shadow?.fixedRate && gw?.fixedRate ? shadow.fixedRate.p99Ms / gw.fixedRate.p99Ms : null;
  judge(`shadow at 100 % to a slow backend: client p99 within 10 % of no shadow (at ${x.rate} req/s)`, shadowRatio === null ? null : (shadowRatio - 1) * 100, 10, 'max',
    (v) => `${v >= 0 ? '+' : ''}${v.toFixed(0)} % (${ms(shadow!.fixedRate!.p99Ms)} vs ${ms(gw!.fixedRate!.p99Ms)})`,
    'gateway-shadow not measured (see "Not measured")');
  return rows;
}

function soakText(soak: SoakResult): string {
  const growth = soak.growth * 100;
  return `${growth >= 0 ? '+' : ''}${growth.toFixed(1)} % over ${soak.seconds} s (${soak.warmRssMb.toFixed(0)} → ${soak.endRssMb.toFixed(0)} MB)`;
}

export function fmt(n: number): string {
  return Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en');
}

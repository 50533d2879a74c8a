import type { Sample } from './rounds.ts';
import type { ScalingResult } from './routeScaling.ts';
import type { SoakResult } from './soak.ts';
import type { TargetSummary } from './summary.ts';
import { BASELINE } from './variants.ts';
import type { WebSocketResult } from './websockets.ts';

/** One target of issues 11 and 20, judged on this run's numbers. */
export interface GoalRow {
  readonly goal: string;
  readonly measured: string;
  readonly status: 'met' | 'not met' | 'not measured';
}

export interface GoalInputs {
  readonly summaries: ReadonlyMap<string, TargetSummary>;
  readonly samples: readonly Sample[];
  readonly scaling: ScalingResult | null;
  readonly soak: SoakResult | null;
  readonly websockets: WebSocketResult | null;
  readonly rate: number;
  readonly overloadConnections: number;
  readonly connections: number;
}

const ms = (v: number) => `${v.toFixed(2)} ms`;

/** The targets of issue 20 (and those of issue 11 still standing), each met or not on this run's numbers. */
export function evaluateGoals(x: GoalInputs): GoalRow[] {
  const gw = x.summaries.get(BASELINE);
  const nginx = x.summaries.get('nginx');
  const undici = x.summaries.get('bare-undici');
  const npmStart = x.summaries.get('npm-start');
  const fastify = x.summaries.get('fastify-proxy');
  const rows: GoalRow[] = [];
  const judge = (
    goal: string,
    value: number | null | undefined,
    limit: number,
    kind: 'min' | 'max',
    show: (v: number) => string,
    why = 'not measured in this run',
  ) => {
    if (value === null || value === undefined || Number.isNaN(value)) rows.push({ goal, measured: why, status: 'not measured' });
    else rows.push({ goal, measured: show(value), status: (kind === 'min' ? value >= limit : value <= limit) ? 'met' : 'not met' });
  };
  const gwMissing = gw ? undefined : 'gateway not measured (see "Not measured")';
  const vsNginx = (v: number) => `${v.toFixed(2)} × (${fmt(gw!.requestsPerSecond)} vs ${fmt(nginx?.requestsPerSecond ?? NaN)} req/s)`;

  judge(
    `gateway serve, every default feature on ≥ 0.25 × nginx req/s (c${x.connections}, 1 process vs 1 worker)`,
    gw?.ratioToNginx,
    0.25,
    'min',
    vsNginx,
    gwMissing,
  );
  judge('reach: ≥ 0.30 × nginx with every feature on', gw?.ratioToNginx, 0.3, 'min', vsNginx, gwMissing);
  judge(
    `gateway serve ≥ 0.85 × the bare undici pass-through (req/s c${x.connections})`,
    gw?.ratioToBareUndici,
    0.85,
    'min',
    (v) => `${v.toFixed(2)} × (${fmt(gw!.requestsPerSecond)} vs ${fmt(undici?.requestsPerSecond ?? NaN)} req/s)`,
    gwMissing,
  );
  judge(
    "CPU per request ≤ 1.2 × the bare undici pass-through's",
    pairedMedian(x.samples, BASELINE, 'bare-undici', (s) => s.cpuUsPerRequest),
    1.2,
    'max',
    (v) => `${v.toFixed(2)} × (${fmt(gw!.cpuUsPerRequest ?? NaN)} vs ${fmt(undici?.cpuUsPerRequest ?? NaN)} µs/req)`,
    'gateway or bare-undici not measured',
  );
  judge(
    `c${x.overloadConnections}: zero timeouts`,
    gw?.overload ? gw.overload.timeouts + gw.overload.errors : undefined,
    0,
    'max',
    () => `${gw!.overload!.timeouts} timeouts, ${gw!.overload!.errors} errors (all rounds)`,
    gwMissing,
  );
  judge(
    `c${x.overloadConnections}: p99 ≤ 1.5 × the bare undici pass-through's p99 (same round)`,
    pairedMedian(x.samples, BASELINE, 'bare-undici', (s) => s.overload?.p99Ms ?? null),
    1.5,
    'max',
    (v) => `${v.toFixed(2)} × (${ms(gw!.overload!.p99Ms)} vs ${ms(undici?.overload?.p99Ms ?? NaN)})`,
    'gateway or bare-undici not measured at c' + x.overloadConnections,
  );
  judge(
    `ahead of @fastify/http-proxy (req/s c${x.connections}, every default feature on)`,
    pairedMedian(x.samples, BASELINE, 'fastify-proxy', (s) => s.saturation.requestsPerSecond),
    1,
    'min',
    (v) => `${v.toFixed(2)} × (${fmt(gw!.requestsPerSecond)} vs ${fmt(fastify?.requestsPerSecond ?? NaN)} req/s)`,
    'gateway or fastify-proxy not measured',
  );
  judge(
    `${x.rate} req/s sustained (≥ 98 % of the rate achieved, no errors)`,
    gw?.fixedRate ? (gw.fixedRate.errors > 0 ? 0 : gw.fixedRate.achievedRate / x.rate) : undefined,
    0.98,
    'min',
    () => `${fmt(gw!.fixedRate!.achievedRate)} req/s achieved, ${gw!.fixedRate!.errors} errors`,
    gwMissing,
  );
  const addedRatio = (pick: (f: NonNullable<TargetSummary['fixedRate']>) => number | null) => {
    const mine = gw?.fixedRate ? pick(gw.fixedRate) : null;
    const theirs = undici?.fixedRate ? pick(undici.fixedRate) : null;
    // An added latency at or below zero is within any bound: compare with a 0.05 ms floor.
    return mine === null || theirs === null ? null : Math.max(mine, 0.05) / Math.max(theirs, 0.05);
  };
  const p50 = addedRatio((f) => f.addedP50Ms);
  const p99 = addedRatio((f) => f.addedP99Ms);
  judge(
    `added p50 at ${x.rate} req/s ≤ 1.5 × the bare undici pass-through's`,
    p50,
    1.5,
    'max',
    (v) => `${v.toFixed(2)} × (+${ms(gw!.fixedRate!.addedP50Ms!)} vs +${ms(undici!.fixedRate!.addedP50Ms!)})`,
    'gateway or bare-undici not measured at the fixed rate',
  );
  judge(
    `added p99 at ${x.rate} req/s ≤ 1.5 × the bare undici pass-through's`,
    p99,
    1.5,
    'max',
    (v) => `${v.toFixed(2)} × (+${ms(gw!.fixedRate!.addedP99Ms!)} vs +${ms(undici!.fixedRate!.addedP99Ms!)})`,
    'gateway or bare-undici not measured at the fixed rate',
  );
  judge(
    'npm start ≥ 0.8 × gateway serve',
    npmStart?.ratioToBaseline,
    0.8,
    'min',
    (v) => `${v.toFixed(2)} × (${fmt(npmStart!.requestsPerSecond)} vs ${fmt(gw?.requestsPerSecond ?? NaN)} req/s)`,
    'npm-start not measured (see "Not measured")',
  );
  const shadowRounds = shadowPerRound(x.samples);
  const shadowGoal = `shadow at 100 % to a slow backend: client p99 at ${x.rate} req/s within 10 % of no shadow, in each of 3 runs`;
  if (shadowRounds.length < 3)
    rows.push({
      goal: shadowGoal,
      measured: shadowRounds.length ? `${shadowRounds.map(pct).join(', ')}; fewer than 3 rounds` : 'gateway-shadow not measured',
      status: 'not measured',
    });
  else rows.push({ goal: shadowGoal, measured: shadowRounds.map(pct).join(', '), status: shadowRounds.every((r) => r <= 10) ? 'met' : 'not met' });
  judge(`peak RSS ≤ 150 MB (c${x.overloadConnections} run included)`, gw?.peakRssMb, 150, 'max', (v) => `${v.toFixed(0)} MB (VmHWM)`, gwMissing);
  const soakGoal = 'RSS flat over a 5-minute soak (within 10 %)';
  if (x.soak && x.soak.seconds < 300) {
    rows.push({ goal: soakGoal, measured: `${soakText(x.soak)}; a soak shorter than 300 s does not count`, status: 'not measured' });
  } else {
    judge(soakGoal, x.soak ? x.soak.growth * 100 : null, 10, 'max', () => soakText(x.soak!), 'not run (npm run bench -- --only gateway --soak 300)');
  }
  const at1000 = x.scaling?.rows.find((r) => r.routes === 1_000);
  judge(
    'a 1 000-route file loads in < 200 ms',
    at1000?.loadColdMs,
    200,
    'max',
    (v) =>
      `${v.toFixed(0)} ms first load, ${at1000!.loadWarmMs === null || Number.isNaN(at1000!.loadWarmMs) ? '–' : at1000!.loadWarmMs.toFixed(0)} ms on reload`,
    'route scaling not run',
  );
  const ws = x.websockets;
  judge(
    `${ws?.connections ?? 1000} concurrent WebSocket connections through the gateway echo ${ws?.messagesEach ?? 10} messages each, none lost`,
    ws ? ws.lost : null,
    0,
    'max',
    () =>
      `${fmt(ws!.echoed)} of ${fmt(ws!.connections * ws!.messagesEach)} echoed, ${ws!.lost} lost, ${ws!.failedConnections} connections failed, in ${ws!.seconds.toFixed(1)} s`,
    'WebSocket run not done (see "Not measured")',
  );
  return rows;
}

/** The median over rounds of `a`'s value over `b`'s in the same round (null: no round has both). */
export function pairedMedian(samples: readonly Sample[], a: string, b: string, pick: (s: Sample) => number | null): number | null {
  const ratios: number[] = [];
  for (const s of samples) {
    if (s.target !== a) continue;
    const other = samples.find((o) => o.target === b && o.round === s.round);
    const mine = pick(s);
    const theirs = other ? pick(other) : null;
    if (mine !== null && theirs !== null && theirs > 0) ratios.push(mine / theirs);
  }
  if (ratios.length === 0) return null;
  ratios.sort((p, q) => p - q);
  const mid = ratios.length >> 1;
  return ratios.length % 2 === 1 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
}

/** Shadow's p99 over the baseline's, per round, at the fixed rate (percent more). */
function shadowPerRound(samples: readonly Sample[]): number[] {
  const out: number[] = [];
  for (const s of samples) {
    if (s.target !== 'gateway-shadow' || !s.fixedRate) continue;
    const base = samples.find((b) => b.target === BASELINE && b.round === s.round)?.fixedRate;
    if (base) out.push((s.fixedRate.p99Ms / base.p99Ms - 1) * 100);
  }
  return out;
}

function pct(v: number): string {
  return `${v >= 0 ? '+' : ''}${v.toFixed(0)} %`;
}

function soakText(soak: SoakResult): string {
  const growth = soak.growth * 100;
  return `${growth >= 0 ? '+' : ''}${growth.toFixed(1)} % over ${soak.seconds} s (${soak.warmRssMb.toFixed(0)} → ${soak.endRssMb.toFixed(0)} MB)`;
}

export function fmt(n: number): string {
  return Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en');
}

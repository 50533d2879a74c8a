import type { Sample } from './rounds.ts';

/** The medians of one target over the rounds, and its ratios to the references. */
export interface TargetSummary {
  readonly target: string;
  readonly rounds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerRequest: number | null;
  readonly peakRssMb: number | null;
  /** Median of the per-round ratios (same round = same machine conditions). */
  readonly ratioToNginx: number | null;
  readonly ratioToBare: number | null;
  readonly ratioToBareUndici: number | null;
  readonly ratioToBaseline: number | null;
  readonly fixedRate: {
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly addedP50Ms: number | null;
    readonly addedP99Ms: number | null;
    readonly errors: number;
    readonly achievedRate: number;
  } | null;
  readonly overload: { readonly p99Ms: number; readonly timeouts: number; readonly errors: number; readonly requestsPerSecond: number } | null;
  readonly errors: number;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarise(samples: readonly Sample[], baseline = 'gateway'): Map<string, TargetSummary> {
  const byTarget = new Map<string, Sample[]>();
  for (const s of samples) byTarget.set(s.target, [...(byTarget.get(s.target) ?? []), s]);
  const inRound = (target: string, round: number) => byTarget.get(target)?.find((s) => s.round === round);
  const pairedRatio = (list: Sample[], reference: string): number | null => {
    const ratios = list.flatMap((s) => {
      const ref = inRound(reference, s.round);
      return ref ? [s.saturation.requestsPerSecond / ref.saturation.requestsPerSecond] : [];
    });
    return ratios.length ? median(ratios) : null;
  };
  const pairedAdded = (list: Sample[], pick: (s: Sample) => number | undefined): number | null => {
    const deltas = list.flatMap((s) => {
      const direct = inRound('direct', s.round);
      const mine = pick(s);
      const theirs = direct ? pick(direct) : undefined;
      return mine !== undefined && theirs !== undefined ? [mine - theirs] : [];
    });
    return deltas.length ? median(deltas) : null;
  };

  const result = new Map<string, TargetSummary>();
  for (const [target, list] of byTarget) {
    const cpu = list.flatMap((s) => (s.cpuUsPerRequest === null ? [] : [s.cpuUsPerRequest]));
    const rss = list.flatMap((s) => (s.peakRss === null ? [] : [s.peakRss]));
    const fixed = list.flatMap((s) => (s.fixedRate ? [s.fixedRate] : []));
    const over = list.flatMap((s) => (s.overload ? [s.overload] : []));
    result.set(target, {
      target,
      rounds: list.length,
      requestsPerSecond: median(list.map((s) => s.saturation.requestsPerSecond)),
      p50Ms: median(list.map((s) => s.saturation.p50Ms)),
      p99Ms: median(list.map((s) => s.saturation.p99Ms)),
      cpuUsPerRequest: cpu.length ? median(cpu) : null,
      peakRssMb: rss.length ? Math.max(...rss) / 2 ** 20 : null,
      ratioToNginx: target === 'nginx' ? 1 : pairedRatio(list, 'nginx'),
      ratioToBare: target === 'bare' ? 1 : pairedRatio(list, 'bare'),
      ratioToBareUndici: target === 'bare-undici' ? 1 : pairedRatio(list, 'bare-undici'),
      ratioToBaseline: pairedRatio(list, baseline),
      fixedRate: fixed.length
        ? {
            p50Ms: median(fixed.map((f) => f.p50Ms)),
            p99Ms: median(fixed.map((f) => f.p99Ms)),
            addedP50Ms: target === 'direct' ? null : pairedAdded(list, (s) => s.fixedRate?.p50Ms),
            addedP99Ms: target === 'direct' ? null : pairedAdded(list, (s) => s.fixedRate?.p99Ms),
            errors: fixed.reduce((sum, f) => sum + f.errors, 0),
            achievedRate: median(fixed.map((f) => f.requestsPerSecond)),
          }
        : null,
      overload: over.length
        ? {
            p99Ms: median(over.map((o) => o.p99Ms)),
            timeouts: over.reduce((sum, o) => sum + o.timeouts, 0),
            errors: over.reduce((sum, o) => sum + o.errors + o.non2xx, 0),
            requestsPerSecond: median(over.map((o) => o.requestsPerSecond)),
          }
        : null,
      errors: list.reduce((sum, s) => sum + s.saturation.errors + s.saturation.non2xx + s.saturation.timeouts, 0),
    });
  }
  return result;
}

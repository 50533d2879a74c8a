import type { MetricObjectWithValues, MetricValueWithName } from 'prom-client';
import type { GateQuery, GateReader } from './gateReader.ts';
import type { GateReading } from './gates.ts';
import { histogramQuantile, type Bucket } from './histogramQuantile.ts';

/** One process's metrics, as prom-client's getMetricsAsJSON gives them. */
export type ProcessMetrics = readonly MetricObjectWithValues<MetricValueWithName<string>>[];

/**
 * The metrics of every process the gates count — this one, or a cluster primary's workers —
 * by a name that stays with the process (a worker's pid); null: it sent none this time.
 */
export type MetricsByProcess = () => Promise<ReadonlyMap<string, ProcessMetrics | null>>;

/** Cumulative values of one rollout's series at one moment. */
interface Totals {
  readonly attempts: number;
  readonly failures: number;
  readonly buckets: ReadonlyMap<number, number>;
  readonly legacyBuckets: ReadonlyMap<number, number>;
  readonly comparisons: number;
  readonly mismatches: number;
  /**
   * The new backend's ejection in force: ms from when this process applied the plan it serves
   * to when the ejection began, both by the process's own clock (a state, not differenced);
   * null when it is in.
   */
  readonly ejectedAfterPlanMs: number | null;
}

/** Totals as JSON (bucket bounds as text: `Infinity` is no JSON number), for the baseline saved in the progress. */
type MarkedTotals = Omit<Totals, 'buckets' | 'legacyBuckets'> & {
  readonly buckets: Readonly<Record<string, number>>;
  readonly legacyBuckets: Readonly<Record<string, number>>;
};

const ZERO: Totals = { attempts: 0, failures: 0, buckets: new Map(), legacyBuckets: new Map(), comparisons: 0, mismatches: 0, ejectedAfterPlanMs: null };

/**
 * Gates from the gateway's own registries: each process's cumulative counters and histogram
 * buckets at the start of the interval are kept and subtracted from the ones at the end, then
 * summed over the processes — what `sum(increase())` does in PromQL, series by series. A
 * process that started since the mark (a replaced worker) counts from zero, as its registry
 * did; one that sent nothing at either end is left out of the interval rather than guessed.
 * A key never marked starts from zero everywhere.
 */
export class LocalGateReader implements GateReader {
  private readonly marks = new Map<string, ReadonlyMap<string, Totals | null>>();

  constructor(private readonly metrics: MetricsByProcess) {}

  async startWindow(key: string, query: GateQuery): Promise<Readonly<Record<string, MarkedTotals | null>>> {
    const totals = await this.totals(query);
    this.marks.set(key, totals);
    return Object.fromEntries([...totals].map(([name, t]) => [name, t && { ...t, buckets: textKeys(t.buckets), legacyBuckets: textKeys(t.legacyBuckets) }]));
  }

  resumeWindow(key: string, mark: unknown): void {
    const marked = Object.entries((mark ?? {}) as Readonly<Record<string, MarkedTotals | null>>);
    this.marks.set(key, new Map(marked.map(([name, t]) => [name, t && { ...t, buckets: numberKeys(t.buckets), legacyBuckets: numberKeys(t.legacyBuckets) }])));
  }

  async read(key: string, query: GateQuery): Promise<GateReading> {
    const marked = this.marks.get(key);
    let sum = ZERO;
    for (const [name, now] of await this.totals(query)) {
      const start = marked?.has(name) ? marked.get(name)! : ZERO;
      // Fewer attempts than at the mark: the process started again under the same name (a replica id kept across restarts); it counts from zero, as its registry did.
      if (now !== null && start !== null) sum = combine(sum, now, now.attempts < start.attempts ? ZERO : start);
    }
    const buckets = bucketsOf(sum.buckets);
    const legacyBuckets = bucketsOf(sum.legacyBuckets);
    return {
      attempts: sum.attempts,
      failures: sum.failures,
      p95Ms: milliseconds(histogramQuantile(0.95, buckets)),
      legacyRequests: countOf(legacyBuckets),
      legacyP95Ms: milliseconds(histogramQuantile(0.95, legacyBuckets)),
      comparisons: sum.comparisons,
      mismatches: sum.mismatches,
      ejectedAfterPlanMs: sum.ejectedAfterPlanMs,
    };
  }

  private async totals(query: GateQuery): Promise<Map<string, Totals | null>> {
    const byProcess = await this.metrics();
    return new Map([...byProcess].map(([name, metrics]) => [name, metrics === null ? null : totalsOf(metrics, query)]));
  }
}

function totalsOf(metrics: ProcessMetrics, query: GateQuery): Totals {
  const routes = new Set(query.routes);
  const totals = {
    attempts: 0,
    failures: 0,
    buckets: new Map<number, number>(),
    legacyBuckets: new Map<number, number>(),
    comparisons: 0,
    mismatches: 0,
  };
  // Both unix times by this process's clock: only their difference leaves the process.
  let ejectedSince: number | null = null;
  let planApplied = 0; // none: a process without a data plane, which ejects nothing
  for (const metric of metrics) {
    for (const { labels, value, metricName } of metric.values) {
      if (metric.name === 'gateway_backend_ejected_since_seconds' && labels.backend === query.backend) ejectedSince = earliest(ejectedSince, value * 1000);
      if (metric.name === 'gateway_plan_applied_timestamp_seconds') planApplied = Math.max(planApplied, value * 1000);
      if (!routes.has(String(labels.route))) continue;
      if (metric.name === 'gateway_backend_attempts_total' && labels.backend === query.backend) {
        totals.attempts += value;
        if (labels.result !== 'ok') totals.failures += value;
      } else if (metricName === 'gateway_request_duration_seconds_bucket' && (labels.backend === query.backend || labels.backend === query.legacy)) {
        const target = labels.backend === query.backend ? totals.buckets : totals.legacyBuckets;
        const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
        target.set(le, (target.get(le) ?? 0) + value);
      } else if (metric.name === 'gateway_shadow_comparisons_total' && (labels.result === 'match' || labels.result === 'mismatch')) {
        totals.comparisons += value;
        if (labels.result === 'mismatch') totals.mismatches += value;
      }
    }
  }
  return { ...totals, ejectedAfterPlanMs: ejectedSince === null ? null : ejectedSince - planApplied };
}

/**
 * `sum + (now - start)`, value by value and bucket by bucket; an ejection is a state, not a
 * count: the earliest (relative to its process's plan) in force at either end of the interval
 * (one that began before the interval and ended inside it was in force at its start).
 */
function combine(sum: Totals, now: Totals, start: Totals): Totals {
  const buckets = (total: ReadonlyMap<number, number>, end: ReadonlyMap<number, number>, begin: ReadonlyMap<number, number>) =>
    new Map([...new Set([...total.keys(), ...end.keys()])].map((le) => [le, (total.get(le) ?? 0) + (end.get(le) ?? 0) - (begin.get(le) ?? 0)]));
  return {
    attempts: sum.attempts + now.attempts - start.attempts,
    failures: sum.failures + now.failures - start.failures,
    buckets: buckets(sum.buckets, now.buckets, start.buckets),
    legacyBuckets: buckets(sum.legacyBuckets, now.legacyBuckets, start.legacyBuckets),
    comparisons: sum.comparisons + now.comparisons - start.comparisons,
    mismatches: sum.mismatches + now.mismatches - start.mismatches,
    ejectedAfterPlanMs: earliest(earliest(sum.ejectedAfterPlanMs, now.ejectedAfterPlanMs), start.ejectedAfterPlanMs),
  };
}

function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

function textKeys(buckets: ReadonlyMap<number, number>): Record<string, number> {
  return Object.fromEntries([...buckets].map(([le, count]) => [String(le), count]));
}

function numberKeys(buckets: Readonly<Record<string, number>>): Map<number, number> {
  return new Map(Object.entries(buckets).map(([le, count]) => [Number(le), count]));
}

function bucketsOf(buckets: ReadonlyMap<number, number>): Bucket[] {
  return [...buckets].map(([le, count]) => ({ le, count }));
}

function countOf(buckets: readonly Bucket[]): number {
  return buckets.find((b) => b.le === Infinity)?.count ?? 0;
}

function milliseconds(seconds: number | null): number | null {
  return seconds === null ? null : seconds * 1000;
}

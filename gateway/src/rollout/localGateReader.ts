import type { MetricObjectWithValues, MetricValueWithName } from 'prom-client';
import type { GateQuery, GateReader } from './gateReader.ts';
import type { GateReading } from './gates.ts';
import { histogramQuantile, type Bucket } from './histogramQuantile.ts';

/** The metrics of this process (or, in a cluster primary, of its workers summed), as prom-client gives them. */
export type MetricsJson = () => Promise<readonly MetricObjectWithValues<MetricValueWithName<string>>[]>;

/** Cumulative values of one rollout's series at one moment. */
interface Totals {
  readonly attempts: number;
  readonly failures: number;
  readonly buckets: ReadonlyMap<number, number>;
  readonly legacyBuckets: ReadonlyMap<number, number>;
  readonly comparisons: number;
  readonly mismatches: number;
}

const ZERO: Totals = { attempts: 0, failures: 0, buckets: new Map(), legacyBuckets: new Map(), comparisons: 0, mismatches: 0 };

/**
 * Gates from this process's own registry: the cumulative counters and histogram buckets at
 * the start of the interval are kept and subtracted from the ones at the end, which is what
 * `increase()` does in PromQL. A key never marked starts from zero, as the registry did when
 * the process started.
 */
export class LocalGateReader implements GateReader {
  private readonly marks = new Map<string, Totals>();

  constructor(private readonly metrics: MetricsJson) {}

  async startWindow(key: string, query: GateQuery): Promise<void> {
    this.marks.set(key, await this.totals(query));
  }

  async read(key: string, query: GateQuery): Promise<GateReading> {
    const now = await this.totals(query);
    const start = this.marks.get(key) ?? ZERO;
    const buckets = difference(now.buckets, start.buckets);
    const legacyBuckets = difference(now.legacyBuckets, start.legacyBuckets);
    return {
      attempts: now.attempts - start.attempts,
      failures: now.failures - start.failures,
      p95Ms: milliseconds(histogramQuantile(0.95, buckets)),
      legacyRequests: countOf(legacyBuckets),
      legacyP95Ms: milliseconds(histogramQuantile(0.95, legacyBuckets)),
      comparisons: now.comparisons - start.comparisons,
      mismatches: now.mismatches - start.mismatches,
    };
  }

  private async totals(query: GateQuery): Promise<Totals> {
    const routes = new Set(query.routes);
    const totals = { attempts: 0, failures: 0, buckets: new Map<number, number>(), legacyBuckets: new Map<number, number>(), comparisons: 0, mismatches: 0 };
    for (const metric of await this.metrics()) {
      for (const { labels, value, metricName } of metric.values) {
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
    return totals;
  }
}

function difference(now: ReadonlyMap<number, number>, start: ReadonlyMap<number, number>): Bucket[] {
  return [...now].map(([le, count]) => ({ le, count: count - (start.get(le) ?? 0) }));
}

function countOf(buckets: readonly Bucket[]): number {
  return buckets.find((b) => b.le === Infinity)?.count ?? 0;
}

function milliseconds(seconds: number | null): number | null {
  return seconds === null ? null : seconds * 1000;
}

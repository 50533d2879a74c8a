import { Counter, Histogram, type HistogramConfiguration } from 'prom-client';
import type { Decision } from '../decide/chooseBackend.ts';

const DECISIONS: readonly Decision[] = ['weight', 'override', 'fallback', 'deny'];
const CODES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** One route and backend's numbers since the start: requests by decision and status class, and the duration histogram. */
class Slot {
  /** [decision × 5 + status class] → requests. */
  readonly requests = new Float64Array(DECISIONS.length * CODES.length);
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly buckets: Float64Array;
  sum = 0;

  constructor(
    readonly route: string,
    readonly backend: string,
    bucketCount: number,
  ) {
    this.buckets = new Float64Array(bucketCount + 1);
  }
}

/**
 * The per-request metrics (gateway_requests_total, gateway_request_duration_seconds) as plain
 * numbers in typed arrays, one slot per route and backend: a request costs two map lookups
 * and three additions. prom-client sees them only when scraped (`collect` of the counter,
 * `get` of the histogram): its per-call label hashing and validation is off the request path.
 * Label values come from a closed set (configured names, four decisions, five classes).
 */
export class RequestCounters {
  private readonly byRoute = new Map<string, Map<string, Slot>>();

  constructor(private readonly bounds: readonly number[]) {}

  record(route: string, backend: string, decision: Decision, status: number, seconds: number): void {
    const slot = this.slotOf(route, backend);
    slot.requests[DECISIONS.indexOf(decision) * CODES.length + codeIndex(status)]! += 1;
    const bounds = this.bounds;
    let bucket = 0;
    while (bucket < bounds.length && seconds > bounds[bucket]!) bucket++;
    slot.buckets[bucket]! += 1;
    slot.sum += seconds;
  }

  /** Writes the request totals into prom-client's counter (its `collect`, at scrape time). */
  fillCounter(counter: Counter<'route' | 'backend' | 'decision' | 'code'>): void {
    counter.reset();
    for (const slot of this.slots()) {
      slot.requests.forEach((value, index) => {
        if (value === 0) return;
        const decision = DECISIONS[Math.floor(index / CODES.length)]!;
        counter.inc({ route: slot.route, backend: slot.backend, decision, code: CODES[index % CODES.length]! }, value);
      });
    }
  }

  /** The duration histogram's values, in the shape prom-client's own histogram exports. */
  histogramValues(name: string): { labels: Record<string, string | number>; value: number; metricName: string }[] {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const slot of this.slots()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += slot.buckets[i]!;
        values.push({ labels: { le, route: slot.route, backend: slot.backend }, value: cumulative, metricName: `${name}_bucket` });
      });
      const count = cumulative + slot.buckets[this.bounds.length]!;
      values.push(
        { labels: { le: '+Inf', route: slot.route, backend: slot.backend }, value: count, metricName: `${name}_bucket` },
        { labels: { route: slot.route, backend: slot.backend }, value: slot.sum, metricName: `${name}_sum` },
        { labels: { route: slot.route, backend: slot.backend }, value: count, metricName: `${name}_count` },
      );
    }
    return values;
  }

  private *slots(): Iterable<Slot> {
    for (const backends of this.byRoute.values()) yield* backends.values();
  }

  private slotOf(route: string, backend: string): Slot {
    let backends = this.byRoute.get(route);
    if (backends === undefined) this.byRoute.set(route, (backends = new Map()));
    let slot = backends.get(backend);
    if (slot === undefined) backends.set(backend, (slot = new Slot(route, backend, this.bounds.length)));
    return slot;
  }
}

/** 1xx … 5xx as 0 … 4 (the `code` label). */
function codeIndex(status: number): number {
  return Math.min(4, Math.max(0, Math.floor(status / 100) - 1));
}

type HistogramExport = ReturnType<Histogram<'route' | 'backend'>['get']>;

/** prom-client's histogram, its values read from RequestCounters when scraped instead of kept by `observe`. */
export class ScrapedHistogram extends Histogram<'route' | 'backend'> {
  constructor(
    private readonly config: HistogramConfiguration<'route' | 'backend'> & { buckets: number[] },
    private readonly source: () => RequestCounters,
  ) {
    super(config);
  }

  override get(): HistogramExport {
    return this.getForPromString();
  }

  /** What the registry formats the text exposition from (prom-client calls it when present). */
  getForPromString(): HistogramExport {
    const values = this.source().histogramValues(this.config.name);
    // The `le` label is the histogram's own, beside the declared ones: prom-client's type has no room for it.
    const metric = { name: this.config.name, help: this.config.help, type: 'histogram', values, aggregator: this.config.aggregator ?? 'sum' };
    return Promise.resolve(metric as unknown as Awaited<HistogramExport>);
  }
}

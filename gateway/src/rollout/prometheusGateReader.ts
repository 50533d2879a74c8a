import type { GateQuery, GateReader } from './gateReader.ts';
import type { GateReading } from './gates.ts';
import { gateQueries, type GateSeries } from './promQueries.ts';

interface QueryAnswer {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: { value: [number, string] }[] };
}

/**
 * Gates from Prometheus (GATEWAY_PROMETHEUS_URL): the sum over every replica it scrapes,
 * each value an instant query over the interval that just ended. Prometheus keeps the
 * history, so a window needs no mark.
 */
export class PrometheusGateReader implements GateReader {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 5_000,
  ) {}

  startWindow(): Promise<null> {
    return Promise.resolve(null);
  }

  /** A resumed interval is read like any other: over the interval that just ended, all of it since the step when the check is due or overdue. */
  resumeWindow(): void {}

  async read(_key: string, query: GateQuery, seconds: number): Promise<GateReading> {
    const queries = gateQueries(query, `${seconds}s`);
    const entries = await Promise.all((Object.keys(queries) as GateSeries[]).map(async (series) => [series, await this.scalar(queries[series])] as const));
    const value = Object.fromEntries(entries) as Record<GateSeries, number | null>;
    return {
      attempts: Math.round(value.attempts ?? 0),
      failures: Math.round(value.failures ?? 0),
      p95Ms: value.p95Seconds === null ? null : value.p95Seconds * 1000,
      legacyRequests: Math.round(value.legacyRequests ?? 0),
      legacyP95Ms: value.legacyP95Seconds === null ? null : value.legacyP95Seconds * 1000,
      comparisons: Math.round(value.comparisons ?? 0),
      mismatches: Math.round(value.mismatches ?? 0),
      ejectedAfterPlanMs: value.ejectedAfterPlanSeconds === null ? null : value.ejectedAfterPlanSeconds * 1000,
    };
  }

  /** One instant query's single value; null for no series or NaN (histogram_quantile of nothing). */
  private async scalar(promql: string): Promise<number | null> {
    const url = new URL('/api/v1/query', this.baseUrl);
    url.searchParams.set('query', promql);
    let answer: QueryAnswer;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      answer = (await response.json()) as QueryAnswer;
    } catch (error) {
      throw new Error(`Prometheus at ${this.baseUrl} did not answer (${(error as Error).message})`, { cause: error });
    }
    if (answer.status !== 'success') throw new Error(`Prometheus refused ${promql}: ${answer.error ?? 'no reason given'}`);
    const sample = answer.data?.result[0];
    if (!sample) return null;
    const value = Number(sample.value[1]);
    return Number.isFinite(value) ? value : null;
  }
}

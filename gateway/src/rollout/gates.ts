import type { RolloutConfig } from '../config/routesConfig.ts';

/**
 * What one interval saw on the rollout's routes, summed over them (and over replicas when it
 * comes from Prometheus). Attempts count every try on the new backend, also the ones whose
 * failure the fallback hid from the client.
 */
export interface GateReading {
  readonly attempts: number;
  readonly failures: number;
  /** The new backend's p95 in milliseconds, null without answers. */
  readonly p95Ms: number | null;
  readonly legacyRequests: number;
  readonly legacyP95Ms: number | null;
  /** Shadow comparisons that got both answers (match + mismatch). */
  readonly comparisons: number;
  /** Of those, the ones that differ beyond ignore rules and noise. */
  readonly mismatches: number;
  /**
   * The new backend's ejection (outlier detection) in force during the interval that began the
   * earliest relative to the plan served where it began: the ms from when that replica applied
   * the plan it serves (the step's: a step is judged only once every replica serves it) to when
   * it ejected the backend, both read on that replica's own clock, so no two clocks are ever
   * compared. Negative: the ejection is older than the step. Null when it was never out.
   */
  readonly ejectedAfterPlanMs: number | null;
}

export const GATE_NAMES = ['requests', 'error_percent', 'p95_ms', 'p95_ratio', 'comparisons', 'mismatch_percent'] as const;
export type GateName = (typeof GATE_NAMES)[number];
export type GateVerdict = 'pass' | 'fail' | 'inconclusive';

/** One gate of one check: the value seen against its threshold, and why it is judged so. */
export interface GateResult {
  readonly gate: GateName;
  /** Null when the interval gave nothing to compute it from. */
  readonly value: number | null;
  readonly threshold: number;
  readonly verdict: GateVerdict;
  readonly why: string;
}

export type CheckVerdict = 'passed' | 'failed' | 'inconclusive';

/**
 * Each gate's value against its threshold. Too few attempts (or comparisons) make the gates
 * that depend on them inconclusive rather than passed: a sample of three says nothing. An
 * ejection that began before the replica applied the step's plan makes the error gate
 * inconclusive: the requests it diverted are counted as failures of the new backend, and
 * those failures belong to the step that caused them, not to this one (a rollout restarted
 * after its rollback would otherwise fail on the old cool-down). The check holds until the
 * backend is back.
 */
export function evaluateGates(reading: GateReading, config: RolloutConfig): GateResult[] {
  const { backend } = config;
  const enough = reading.attempts >= config.minRequests;
  const few = `${reading.attempts} attempts on ${backend} in the interval, ${config.minRequests} needed`;
  const results: GateResult[] = [
    gate('requests', reading.attempts, config.minRequests, enough ? 'pass' : 'inconclusive', enough ? `${reading.attempts} attempts on ${backend}` : few),
  ];

  const errorPercent = reading.attempts > 0 ? round((reading.failures / reading.attempts) * 100) : null;
  const carried = reading.ejectedAfterPlanMs !== null && reading.ejectedAfterPlanMs < 0;
  const ejectedBefore = `${backend} has been out (outlier detection) since ${round(-(reading.ejectedAfterPlanMs ?? 0) / 1000)} s before its replica applied this step's plan: holding until it is back, its diverted requests are not this step's failures`;
  results.push(
    !enough || carried
      ? gate('error_percent', errorPercent, config.maxErrorPercent, 'inconclusive', carried ? ejectedBefore : few)
      : judged(
          'error_percent',
          errorPercent!,
          config.maxErrorPercent,
          `${reading.failures} of ${reading.attempts} attempts failed (5xx or no answer, fallback included)`,
        ),
  );

  const p95 = reading.p95Ms === null ? null : round(reading.p95Ms);
  results.push(
    !enough || p95 === null
      ? gate('p95_ms', p95, config.maxP95Ms, 'inconclusive', enough ? `no answers from ${backend} to measure` : few)
      : judged('p95_ms', p95, config.maxP95Ms, `p95 of ${backend} ${p95} ms`),
  );

  const legacyEnough = reading.legacyRequests >= config.minRequests;
  const ratio = p95 !== null && reading.legacyP95Ms !== null && reading.legacyP95Ms > 0 ? round(p95 / reading.legacyP95Ms) : null;
  results.push(
    !enough || !legacyEnough || ratio === null
      ? gate(
          'p95_ratio',
          ratio,
          config.maxP95Ratio,
          'inconclusive',
          !enough ? few : `${reading.legacyRequests} legacy requests in the interval (${config.minRequests} needed for a baseline)`,
        )
      : judged('p95_ratio', ratio, config.maxP95Ratio, `p95 ${p95} ms against legacy ${round(reading.legacyP95Ms!)} ms`),
  );

  if (config.maxMismatchPercent !== null) {
    const compared = reading.comparisons >= config.minComparisons;
    const fewComparisons = `${reading.comparisons} shadow comparisons in the interval, ${config.minComparisons} needed`;
    results.push(
      gate(
        'comparisons',
        reading.comparisons,
        config.minComparisons,
        compared ? 'pass' : 'inconclusive',
        compared ? `${reading.comparisons} shadow comparisons` : fewComparisons,
      ),
    );
    const mismatch = reading.comparisons > 0 ? round((reading.mismatches / reading.comparisons) * 100) : null;
    results.push(
      !compared
        ? gate('mismatch_percent', mismatch, config.maxMismatchPercent, 'inconclusive', fewComparisons)
        : judged(
            'mismatch_percent',
            mismatch!,
            config.maxMismatchPercent,
            `${reading.mismatches} of ${reading.comparisons} shadow comparisons differ (noise excluded)`,
          ),
    );
  }
  return results;
}

/** A failed gate fails the check; otherwise one inconclusive gate holds it. */
export function verdictOf(gates: readonly GateResult[]): CheckVerdict {
  if (gates.some((g) => g.verdict === 'fail')) return 'failed';
  return gates.some((g) => g.verdict === 'inconclusive') ? 'inconclusive' : 'passed';
}

/** `error_percent 0.4 ≤ 1 ✓, p95_ms 812 > 500 ✗, …`, for log lines, audit reasons and webhooks. */
export function describeGates(gates: readonly GateResult[]): string {
  return gates.map((g) => `${g.gate} ${g.value ?? '–'} ${SIGN[g.gate]} ${g.threshold} ${MARK[g.verdict]}`).join(', ');
}

export const MARK: Readonly<Record<GateVerdict, string>> = { pass: '✓', fail: '✗', inconclusive: '?' };
/** Sufficiency gates want at least their threshold; the others at most. */
export const SIGN: Readonly<Record<GateName, string>> = {
  requests: '≥',
  comparisons: '≥',
  error_percent: '≤',
  p95_ms: '≤',
  p95_ratio: '≤',
  mismatch_percent: '≤',
};

function judged(name: GateName, value: number, threshold: number, what: string): GateResult {
  return value <= threshold
    ? gate(name, value, threshold, 'pass', `${what} (at most ${threshold})`)
    : gate(name, value, threshold, 'fail', `${what}: above ${threshold}`);
}

function gate(name: GateName, value: number | null, threshold: number, verdict: GateVerdict, why: string): GateResult {
  return { gate: name, value, threshold, verdict, why };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

import { describe, expect, it } from 'vitest';
import { ROLLOUT_DEFAULTS, type RolloutConfig } from '../src/config/routesConfig.ts';
import {
  abortRollout,
  decideStep,
  pauseRollout,
  promoteRollout,
  restartRollout,
  resumeRollout,
  splitEditedByHand,
  startRollout,
  type RolloutState,
} from '../src/rollout/decideStep.ts';
import { evaluateGates, verdictOf, type GateReading } from '../src/rollout/gates.ts';
import { histogramQuantile } from '../src/rollout/histogramQuantile.ts';

const CONFIG: RolloutConfig = { ...ROLLOUT_DEFAULTS, backend: 'thoughts', steps: [5, 25, 'pause', 50, 100], maxMismatchPercent: 0.5, notify: [], line: 1 };
const HEALTHY: GateReading = {
  attempts: 400,
  failures: 1,
  p95Ms: 80,
  legacyRequests: 7600,
  legacyP95Ms: 70,
  comparisons: 7000,
  mismatches: 3,
  ejectedAfterPlanMs: null,
};
const at = (stepIndex: number, percent: number, extra: Partial<RolloutState> = {}): RolloutState => ({
  status: 'progressing',
  stepIndex,
  percent,
  failures: 0,
  ...extra,
});
const check = (state: RolloutState, reading: Partial<GateReading> = {}) => decideStep(state, evaluateGates({ ...HEALTHY, ...reading }, CONFIG), CONFIG);

describe('gates', () => {
  it('judges each gate against its threshold', () => {
    const gates = evaluateGates({ ...HEALTHY, failures: 8, p95Ms: 120 }, CONFIG);
    expect(gates.map((g) => [g.gate, g.value, g.verdict])).toEqual([
      ['requests', 400, 'pass'],
      ['error_percent', 2, 'fail'],
      ['p95_ms', 120, 'pass'],
      ['p95_ratio', 1.71, 'fail'],
      ['comparisons', 7000, 'pass'],
      ['mismatch_percent', 0.04, 'pass'],
    ]);
    expect(verdictOf(gates)).toBe('failed');
  });

  it('too few attempts or comparisons: inconclusive, with why', () => {
    const gates = evaluateGates({ ...HEALTHY, attempts: 12, failures: 12, comparisons: 10 }, CONFIG);
    expect(verdictOf(gates)).toBe('inconclusive');
    expect(gates.find((g) => g.gate === 'error_percent')).toMatchObject({
      value: 100,
      verdict: 'inconclusive',
      why: '12 attempts on thoughts in the interval, 100 needed',
    });
    expect(gates.find((g) => g.gate === 'mismatch_percent')!.why).toBe('10 shadow comparisons in the interval, 50 needed');
  });

  it("an ejection that began before its replica applied the step's plan holds the error gate (its diverted requests are not this step's failures); one of the step fails it", () => {
    const carried = evaluateGates({ ...HEALTHY, failures: 400, ejectedAfterPlanMs: -10_000 }, CONFIG);
    expect(verdictOf(carried)).toBe('inconclusive');
    expect(carried.find((g) => g.gate === 'error_percent')).toMatchObject({
      value: 100,
      verdict: 'inconclusive',
      why: "thoughts has been out (outlier detection) since 10 s before its replica applied this step's plan: holding until it is back, its diverted requests are not this step's failures",
    });
    // The other gates still judge: a parity failure is the step's own.
    expect(verdictOf(evaluateGates({ ...HEALTHY, mismatches: 7000, ejectedAfterPlanMs: -10_000 }, CONFIG))).toBe('failed');
    const own = evaluateGates({ ...HEALTHY, failures: 400, ejectedAfterPlanMs: 1_000 }, CONFIG);
    expect(own.find((g) => g.gate === 'error_percent')).toMatchObject({ value: 100, verdict: 'fail' });
  });

  it('no shadow: no parity gates', () => {
    expect(evaluateGates(HEALTHY, { ...CONFIG, maxMismatchPercent: null }).map((g) => g.gate)).toEqual(['requests', 'error_percent', 'p95_ms', 'p95_ratio']);
  });
});

describe('decideStep', () => {
  it('passed → the next step; before a pause step → paused; promote goes past it; the last step completes', () => {
    expect(check(at(0, 5))).toMatchObject({ action: 'step', to: 25, state: at(1, 25), events: ['step'] });
    expect(check(at(1, 25))).toMatchObject({ action: 'pause', to: null, state: { status: 'paused', stepIndex: 2, percent: 25 }, events: ['paused'] });
    expect(promoteRollout({ status: 'paused', stepIndex: 2, percent: 25, failures: 0 }, CONFIG)).toMatchObject({
      action: 'step',
      to: 50,
      state: at(3, 50),
      events: ['resumed', 'step'],
    });
    expect(check(at(3, 50))).toMatchObject({
      action: 'complete',
      to: 100,
      state: { status: 'completed', stepIndex: 4, percent: 100 },
      events: ['step', 'completed'],
    });
  });

  it('a failed check counts; at failure_limit it rolls back (or pauses with on_failure: pause)', () => {
    const once = check(at(1, 25), { failures: 40 });
    expect(once).toMatchObject({ action: 'hold', to: null, state: at(1, 25, { failures: 1 }) });
    expect(once.reason).toMatch(/^check failed \(1 of 2 in a row\): 40 of 400 attempts failed/);
    expect(check(once.state, { failures: 40 })).toMatchObject({
      action: 'rollback',
      to: 0,
      state: { status: 'rolled_back', percent: 0, failures: 2 },
      events: ['failed', 'rolled_back'],
    });
    const paused = decideStep(once.state, evaluateGates({ ...HEALTHY, failures: 40 }, CONFIG), { ...CONFIG, onFailure: 'pause' });
    expect(paused).toMatchObject({ action: 'pause', to: null, state: { status: 'failed', percent: 25 }, events: ['failed'] });
  });

  it('a pass in between resets the failure count; inconclusive counts nothing', () => {
    expect(check(at(1, 25, { failures: 1 }), { attempts: 3 })).toMatchObject({ action: 'hold', state: at(1, 25, { failures: 1 }) });
    expect(check(at(0, 5, { failures: 1 }))).toMatchObject({ action: 'step', state: { failures: 0 } });
  });

  it('does not judge a rollout that is not progressing', () => {
    for (const status of ['paused', 'failed', 'rolled_back', 'completed'] as const)
      expect(check(at(1, 25, { status }))).toMatchObject({ action: 'hold', to: null, events: [] });
  });
});

describe('starting and the controls', () => {
  it('starts from the current split: below the first step it writes the first step; on a step it watches it', () => {
    expect(startRollout(CONFIG, 0)).toMatchObject({ action: 'step', to: 5, state: at(0, 5), events: ['started', 'step'] });
    expect(startRollout(CONFIG, 30)).toMatchObject({ action: 'hold', to: null, state: at(1, 30), events: ['started'] });
    expect(startRollout(CONFIG, 100)).toMatchObject({ state: { status: 'completed' }, events: ['started', 'completed'] });
  });

  it('a human edit pauses a running rollout at the new percent; resume goes on to the next step above it', () => {
    const edited = splitEditedByHand(at(0, 5), 30);
    expect(edited).toMatchObject({ action: 'pause', state: { status: 'paused', percent: 30 }, events: ['paused'] });
    const resumed = resumeRollout(edited.state, CONFIG);
    expect(resumed).toMatchObject({ action: 'hold', state: { status: 'progressing', stepIndex: 1, percent: 30 }, events: ['resumed'] });
    if (typeof resumed === 'string') throw new Error(resumed);
    expect(check(resumed.state)).toMatchObject({ action: 'pause', state: { stepIndex: 2 } });
    expect(splitEditedByHand({ ...at(0, 0), status: 'rolled_back' }, 10)).toMatchObject({
      action: 'hold',
      state: { status: 'rolled_back', percent: 10 },
      events: [],
    });
  });

  it('resume on a pause step goes past it after the next passed check', () => {
    const resumed = resumeRollout({ status: 'paused', stepIndex: 2, percent: 25, failures: 0 }, CONFIG);
    if (typeof resumed === 'string') throw new Error(resumed);
    expect(resumed.state).toEqual(at(2, 25));
    expect(check(resumed.state)).toMatchObject({ action: 'step', to: 50 });
  });

  it('pause, abort and restart; refusals say why', () => {
    expect(pauseRollout(at(0, 5), 'paused by dana')).toMatchObject({ action: 'pause', state: { status: 'paused' } });
    expect(pauseRollout({ ...at(0, 5), status: 'completed' }, 'x')).toBe('the rollout is completed, not progressing: nothing to pause');
    expect(abortRollout(at(1, 25), 'aborted')).toMatchObject({
      action: 'rollback',
      to: 0,
      state: { status: 'rolled_back', percent: 0 },
      events: ['rolled_back'],
    });
    expect(promoteRollout({ ...at(1, 0), status: 'rolled_back' }, CONFIG)).toBe(
      'the rollout is rolled back: gateway rollout restart starts it again from the first step',
    );
    expect(resumeRollout(at(1, 25), CONFIG)).toBe('the rollout is progressing already: nothing to resume');
    expect(restartRollout(CONFIG, 0)).toMatchObject({ action: 'step', to: 5, state: at(0, 5), events: ['started', 'step'] });
  });
});

describe('histogramQuantile (PromQL semantics)', () => {
  it('interpolates inside the bucket holding the rank, from 0 in the first; +Inf gives the highest finite bound', () => {
    expect(
      histogramQuantile(0.95, [
        { le: 0.1, count: 50 },
        { le: 0.5, count: 100 },
        { le: Infinity, count: 100 },
      ]),
    ).toBeCloseTo(0.46, 5);
    expect(
      histogramQuantile(0.5, [
        { le: 0.1, count: 100 },
        { le: Infinity, count: 100 },
      ]),
    ).toBeCloseTo(0.05, 5);
    expect(
      histogramQuantile(0.95, [
        { le: 0.1, count: 10 },
        { le: Infinity, count: 100 },
      ]),
    ).toBe(0.1);
    expect(
      histogramQuantile(0.95, [
        { le: 0.1, count: 0 },
        { le: Infinity, count: 0 },
      ]),
    ).toBeNull();
  });
});

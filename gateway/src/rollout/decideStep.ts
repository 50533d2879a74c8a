import type { RolloutConfig, RolloutStep } from '../config/routesConfig.ts';
import { describeGates, verdictOf, type GateResult } from './gates.ts';

export type RolloutStatus = 'progressing' | 'paused' | 'failed' | 'rolled_back' | 'completed';
export const ROLLOUT_STATUSES: readonly RolloutStatus[] = ['progressing', 'paused', 'failed', 'rolled_back', 'completed'];

export type RolloutEventKind = 'started' | 'step' | 'paused' | 'resumed' | 'failed' | 'rolled_back' | 'completed';

/** Where a route's rollout stands: everything the next decision needs, and nothing else. */
export interface RolloutState {
  readonly status: RolloutStatus;
  /** Index into `steps` of where the rollout stands; -1 before the first step. */
  readonly stepIndex: number;
  /** The new backend's percent the rollout last wrote or accepted. */
  readonly percent: number;
  /** Failed checks in a row. */
  readonly failures: number;
}

export type RolloutAction = 'step' | 'hold' | 'rollback' | 'pause' | 'complete';

/** A decision is a value: the next state, what to do to routes.yaml (`to`), which events to tell, and why. */
export interface RolloutDecision {
  readonly state: RolloutState;
  readonly action: RolloutAction;
  /** The new backend's percent to write, or null when the file stays as it is. */
  readonly to: number | null;
  readonly events: readonly RolloutEventKind[];
  readonly reason: string;
}

/**
 * The check at the end of an interval. All gates passed → the next step (a `pause` step
 * waits for promote; the last step completes). A failed gate counts; at `failure_limit`
 * the rollout does `on_failure`. Inconclusive holds and counts nothing.
 */
export function decideStep(state: RolloutState, gates: readonly GateResult[], config: RolloutConfig): RolloutDecision {
  if (state.status !== 'progressing') return hold(state, `${state.status}: not judged`);
  const verdict = verdictOf(gates);
  const seen = describeGates(gates);
  if (verdict === 'inconclusive') {
    const why = gates.filter((g) => g.verdict === 'inconclusive').map((g) => g.why);
    return hold(state, `inconclusive, holding at ${state.percent}%: ${[...new Set(why)].join('; ')}`);
  }
  if (verdict === 'failed') {
    const failures = state.failures + 1;
    const failed = gates
      .filter((g) => g.verdict === 'fail')
      .map((g) => g.why)
      .join('; ');
    if (failures < config.failureLimit) return hold({ ...state, failures }, `check failed (${failures} of ${config.failureLimit} in a row): ${failed}`);
    const reason = `${failures} failed checks in a row: ${failed}`;
    if (config.onFailure === 'pause')
      return decision({ ...state, failures, status: 'failed' }, 'pause', null, ['failed'], `${reason}; holding at ${state.percent}% for a human`);
    return decision({ ...state, failures, status: 'rolled_back', percent: 0 }, 'rollback', 0, ['failed', 'rolled_back'], `${reason}; rolled back to 0%`);
  }
  return advance({ ...state, failures: 0 }, config, `all gates passed (${seen})`);
}

/** From the current step to the next one: past `pause` only when `promote` asks. */
function advance(state: RolloutState, config: RolloutConfig, why: string, promote = false): RolloutDecision {
  const { steps } = config;
  let next = state.stepIndex + 1;
  if (steps[next] === 'pause' && !promote) {
    return decision(
      { ...state, stepIndex: next, status: 'paused' },
      'pause',
      null,
      ['paused'],
      `${why}; step ${next + 1} of ${steps.length} is a pause: waiting for gateway rollout promote`,
    );
  }
  while (steps[next] === 'pause') next += 1;
  const to = steps[next] as number | undefined;
  if (to === undefined) return decision({ ...state, status: 'completed' }, 'complete', null, ['completed'], `${why}; no step left`);
  const last = !steps.slice(next + 1).some((s) => s !== 'pause');
  const moved = { ...state, stepIndex: next, percent: to, failures: 0 };
  if (last) return decision({ ...moved, status: 'completed' }, 'complete', to, ['step', 'completed'], `${why}; last step: ${to}%, rollout completed`);
  return decision({ ...moved, status: 'progressing' }, 'step', to, ['step'], `${why}; step ${next + 1} of ${steps.length}: ${to}%`);
}

/** A rollout seen for the first time, or whose block was edited: it starts from the split as it is. */
export function startRollout(config: RolloutConfig, percent: number): RolloutDecision {
  const stepIndex = positionOf(config.steps, percent);
  const state: RolloutState = { status: 'progressing', stepIndex, percent, failures: 0 };
  const atLast = stepIndex >= 0 && !config.steps.slice(stepIndex + 1).some((s) => s !== 'pause');
  if (atLast)
    return decision({ ...state, status: 'completed' }, 'complete', null, ['started', 'completed'], `started at ${percent}%, already at the last step`);
  if (stepIndex >= 0) return { ...hold(state, `started at ${percent}% (step ${stepIndex + 1} of ${config.steps.length})`), events: ['started'] };
  const first = advance(state, config, `started at ${percent}%`);
  return { ...first, events: ['started', ...first.events] };
}

/** `gateway rollout restart`: back to the first step, whatever happened. */
export function restartRollout(config: RolloutConfig, percent: number): RolloutDecision {
  const restarted = advance({ status: 'progressing', stepIndex: -1, percent, failures: 0 }, config, 'restarted', true);
  return { ...restarted, events: ['started', ...restarted.events] };
}

/** `gateway rollout promote`: the next step now, also past a pause. */
export function promoteRollout(state: RolloutState, config: RolloutConfig): RolloutDecision | string {
  if (state.status === 'rolled_back' || state.status === 'completed')
    return `the rollout is ${state.status.replace('_', ' ')}: gateway rollout restart starts it again from the first step`;
  const promoted = advance({ ...state, failures: 0 }, config, 'promoted by hand', true);
  return state.status === 'progressing' ? promoted : { ...promoted, events: ['resumed', ...promoted.events] };
}

/** `gateway rollout pause`: hold where it is until resume or promote. */
export function pauseRollout(state: RolloutState, why: string): RolloutDecision | string {
  if (state.status !== 'progressing') return `the rollout is ${state.status.replace('_', ' ')}, not progressing: nothing to pause`;
  return decision({ ...state, status: 'paused' }, 'pause', null, ['paused'], why);
}

/** `gateway rollout resume`: on from the current percent to the next step above it. */
export function resumeRollout(state: RolloutState, config: RolloutConfig): RolloutDecision | string {
  if (state.status === 'progressing') return 'the rollout is progressing already: nothing to resume';
  if (state.status === 'rolled_back' || state.status === 'completed')
    return `the rollout is ${state.status.replace('_', ' ')}: gateway rollout restart starts it again from the first step`;
  // Paused on a `pause` step at the percent it reached: resuming goes past that pause after the next passed check.
  const onPauseStep = config.steps[state.stepIndex] === 'pause' && positionOf(config.steps, state.percent) === lastNumberBefore(config.steps, state.stepIndex);
  const stepIndex = onPauseStep ? state.stepIndex : positionOf(config.steps, state.percent);
  return decision({ ...state, status: 'progressing', stepIndex, failures: 0 }, 'hold', null, ['resumed'], `resumed at ${state.percent}%`);
}

/** `gateway rollout abort`: the new share to 0 now. */
export function abortRollout(state: RolloutState, why: string): RolloutDecision | string {
  if (state.status === 'rolled_back') return 'the rollout is rolled back already';
  return decision({ ...state, status: 'rolled_back', percent: 0 }, 'rollback', 0, ['rolled_back'], why);
}

/**
 * The split changed under the rollout (gateway shift, panic, a hand edit): humans win, so a
 * running rollout pauses at the new percent. A finished one just takes the number.
 */
export function splitEditedByHand(state: RolloutState, percent: number): RolloutDecision {
  const why = `the split was changed outside the rollout (${state.percent}% → ${percent}%)`;
  if (state.status !== 'progressing') return hold({ ...state, percent }, `${why}; the rollout stays ${state.status.replace('_', ' ')}`);
  return decision({ ...state, percent, status: 'paused' }, 'pause', null, ['paused'], `${why}: paused; gateway rollout resume goes on from ${percent}%`);
}

/** The last step whose percent is at most `percent`; -1 below the first. */
function positionOf(steps: readonly RolloutStep[], percent: number): number {
  let position = -1;
  steps.forEach((step, i) => {
    if (step !== 'pause' && step <= percent) position = i;
  });
  return position;
}

function lastNumberBefore(steps: readonly RolloutStep[], index: number): number {
  for (let i = index - 1; i >= 0; i--) if (steps[i] !== 'pause') return i;
  return -1;
}

function hold(state: RolloutState, reason: string): RolloutDecision {
  return decision(state, 'hold', null, [], reason);
}

function decision(state: RolloutState, action: RolloutAction, to: number | null, events: readonly RolloutEventKind[], reason: string): RolloutDecision {
  return { state, action, to, events, reason };
}

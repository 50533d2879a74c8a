import { wholeNumber } from './fields.ts';
import { ROLLOUT_DEFAULTS, type BackendNames, type RolloutConfig, type RolloutStep, type ShadowConfig, type SplitShare } from './routesConfig.ts';
import { join, type YamlReader } from './yamlReader.ts';

const ROLLOUT_KEYS = [
  'steps',
  'interval_seconds',
  'min_requests',
  'max_error_percent',
  'max_p95_ms',
  'max_p95_ratio',
  'max_mismatch_percent',
  'min_comparisons',
  'failure_limit',
  'on_failure',
  'notify',
] as const;
const STEP_RULE = 'a percent from 0 to 100 (at most two decimals) or pause';

/** What the route validator already knows about the route the block sits on. */
export interface RolloutContext {
  readonly shares: readonly SplitShare[] | null;
  readonly shadow: ShadowConfig | null;
  readonly backends: BackendNames;
}

/**
 * `rollout: { steps: [5, 25, pause, 50, 100], interval_seconds: 60, … }`. The block moves the
 * route's one new backend (a second one would take clients from the first as it rises); the
 * parity gate compares that backend's answers, so it needs a shadow towards it.
 */
export function validateRollout(reader: YamlReader, node: unknown, field: string, context: RolloutContext): RolloutConfig | undefined {
  const map = reader.map(node, field, '{ steps: [5, 25, pause, 50, 100], interval_seconds: 60, max_error_percent: 1 }');
  if (!map) return undefined;
  const entries = reader.knownEntries(map, field, ROLLOUT_KEYS);
  let ok = true;

  const backend = rolloutBackend(reader, map, field, context);
  const stepsEntry = reader.required(entries, map, field, 'steps', "the new backend's percent per step, e.g. [5, 25, pause, 50, 100]");
  const steps = stepsEntry ? validateSteps(reader, stepsEntry.value, join(field, 'steps')) : undefined;

  const number = (key: (typeof ROLLOUT_KEYS)[number], min: number, max: number, fallback: number, note: string): number | undefined => {
    const value = entries.get(key)?.value;
    if (value === undefined) return fallback;
    const got = reader.number(value, join(field, key), `a number from ${min} to ${max} (${note})`);
    if (got !== undefined && (got < min || got > max)) {
      reader.report(value, join(field, key), `${got} is not allowed: a number from ${min} to ${max} (${note})`);
      return undefined;
    }
    return got;
  };
  const whole = (key: (typeof ROLLOUT_KEYS)[number], min: number, max: number, fallback: number, note: string): number | undefined => {
    const value = entries.get(key)?.value;
    return value === undefined ? fallback : wholeNumber(reader, value, join(field, key), min, max, note);
  };

  const intervalSeconds = whole('interval_seconds', 1, 86_400, ROLLOUT_DEFAULTS.intervalSeconds, 'seconds each step is watched before it is judged');
  const minRequests = whole('min_requests', 0, 1_000_000_000, ROLLOUT_DEFAULTS.minRequests, 'attempts on the new backend per interval; fewer is inconclusive');
  const maxErrorPercent = number('max_error_percent', 0, 100, ROLLOUT_DEFAULTS.maxErrorPercent, "percent of the new backend's attempts");
  const maxP95Ms = number('max_p95_ms', 1, 3_600_000, ROLLOUT_DEFAULTS.maxP95Ms, 'milliseconds');
  const maxP95Ratio = number('max_p95_ratio', 0.01, 1000, ROLLOUT_DEFAULTS.maxP95Ratio, 'new p95 / legacy p95');
  const minComparisons = whole('min_comparisons', 0, 1_000_000_000, ROLLOUT_DEFAULTS.minComparisons, 'shadow comparisons per interval; fewer is inconclusive');
  const failureLimit = whole('failure_limit', 1, 1000, ROLLOUT_DEFAULTS.failureLimit, 'failed checks in a row before on_failure');

  const parity = entries.get('max_mismatch_percent');
  const shadowed = context.shadow !== null && backend !== undefined && context.shadow.to === backend;
  let maxMismatchPercent: number | null | undefined = shadowed
    ? number('max_mismatch_percent', 0, 100, ROLLOUT_DEFAULTS.maxMismatchPercent, 'percent of shadow comparisons')
    : null;
  if (parity && !shadowed && backend !== undefined) {
    const why = context.shadow === null ? 'the route has no shadow' : `the route's shadow goes to ${context.shadow.to}`;
    reader.report(
      parity.keyNode,
      join(field, 'max_mismatch_percent'),
      `the parity gate compares ${backend}'s answers with the legacy ones, but ${why}: add shadow: { to: ${backend}, percent: 100 } to the route`,
    );
    maxMismatchPercent = undefined;
  }

  let onFailure: RolloutConfig['onFailure'] | undefined = ROLLOUT_DEFAULTS.onFailure;
  const onFailureEntry = entries.get('on_failure');
  if (onFailureEntry) {
    const written = reader.string(onFailureEntry.value, join(field, 'on_failure'), 'rollback or pause');
    onFailure = written === 'rollback' || written === 'pause' ? written : undefined;
    if (written !== undefined && onFailure === undefined)
      reader.report(onFailureEntry.value, join(field, 'on_failure'), `'${written}' is not allowed: rollback (the new share to 0) or pause (hold for a human)`);
  }

  const notify: string[] = [];
  const notifyEntry = entries.get('notify');
  for (const { value, node: item } of notifyEntry
    ? (reader.strings(notifyEntry.value, join(field, 'notify'), 'a list of webhook URLs, e.g. [https://hooks.example/migration]') ?? [])
    : []) {
    if (/^https?:\/\/[^\s/]+/.test(value) && URL.canParse(value)) notify.push(value);
    else {
      reader.report(item, join(field, 'notify'), `'${value}' is not an http(s) URL; each webhook gets a JSON POST per event`);
      ok = false;
    }
  }

  const values = [intervalSeconds, minRequests, maxErrorPercent, maxP95Ms, maxP95Ratio, minComparisons, failureLimit, maxMismatchPercent, onFailure];
  if (!ok || backend === undefined || steps === undefined || values.some((v) => v === undefined)) return undefined;
  return {
    backend,
    steps,
    intervalSeconds: intervalSeconds!,
    minRequests: minRequests!,
    maxErrorPercent: maxErrorPercent!,
    maxP95Ms: maxP95Ms!,
    maxP95Ratio: maxP95Ratio!,
    maxMismatchPercent: maxMismatchPercent!,
    minComparisons: minComparisons!,
    failureLimit: failureLimit!,
    onFailure: onFailure!,
    notify,
    line: reader.lineOf(map),
  };
}

/** The split's one new backend; an empty split takes the shadow's target (the backend about to be tried). */
function rolloutBackend(reader: YamlReader, map: unknown, field: string, context: RolloutContext): string | undefined {
  if (context.shares === null) {
    reader.report(map, field, 'a deny route forwards nothing, so there is nothing to roll out');
    return undefined;
  }
  const named = context.shares.map((s) => s.backend).filter((name) => name !== context.backends.legacy);
  if (named.length > 1) {
    reader.report(
      map,
      field,
      `the split names ${named.length} new backends (${named.join(', ')}); a rollout moves one: raising the first would also take clients from the second`,
    );
    return undefined;
  }
  const backend = named[0] ?? context.shadow?.to;
  if (backend === undefined || backend === context.backends.legacy) {
    reader.report(map, field, 'name the new backend the rollout moves in the split, e.g. split: { thoughts: 0 }');
    return undefined;
  }
  return backend;
}

/** Rising percents, `pause` between them (not last, not twice in a row). */
function validateSteps(reader: YamlReader, node: unknown, field: string): RolloutStep[] | undefined {
  const seq = reader.seq(node, field, `each ${STEP_RULE}, e.g. [5, 25, pause, 50, 100]`);
  if (!seq) return undefined;
  const steps: RolloutStep[] = [];
  let ok = true;
  let previous: number | undefined;
  seq.items.forEach((item, i) => {
    const itemField = `${field}[${i}]`;
    const scalar = (item as { value?: unknown }).value;
    if (scalar === 'pause') {
      if (steps.at(-1) === 'pause') {
        reader.report(item, itemField, 'two pauses in a row: one already waits for gateway rollout promote');
        ok = false;
      }
      steps.push('pause');
      return;
    }
    const percent = reader.number(item, itemField, STEP_RULE);
    if (percent === undefined) {
      ok = false;
    } else if (percent < 0 || percent > 100 || Math.abs(percent * 100 - Math.round(percent * 100)) > 1e-9) {
      reader.report(item, itemField, `${percent} is not allowed: ${STEP_RULE}`);
      ok = false;
    } else if (previous !== undefined && percent <= previous) {
      reader.report(item, itemField, `${percent} does not rise: the step before is ${previous}; steps go up, e.g. [5, 25, 50, 100]`);
      ok = false;
    } else {
      previous = percent;
      steps.push(percent);
    }
  });
  if (ok && previous === undefined) {
    reader.report(seq, field, 'needs at least one percent, e.g. [5, 25, pause, 50, 100]');
    return undefined;
  }
  if (ok && steps.at(-1) === 'pause') {
    reader.report(seq.items.at(-1), `${field}[${steps.length - 1}]`, 'the last step cannot be pause: nothing comes after it to promote to');
    return undefined;
  }
  return ok ? steps : undefined;
}

/** Routes of one group move together, so at most one of them may carry the group's rollout. */
export function validateRolloutGroups(
  reader: YamlReader,
  routes: readonly { readonly name: string; readonly group: string; readonly rollout: RolloutConfig | null; readonly line: number }[],
): void {
  const owner = new Map<string, string>();
  for (const route of routes) {
    if (route.rollout === null) continue;
    const first = owner.get(route.group);
    if (first === undefined) owner.set(route.group, route.name);
    else
      reader.problems.push({
        file: reader.file,
        line: route.rollout.line,
        field: `routes (${route.name}).rollout`,
        message: `route ${first} already rolls out group ${route.group}; the routes of a group move together, so one rollout: block per group`,
      });
  }
}

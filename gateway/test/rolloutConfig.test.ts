import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileRouteTable } from '../src/config/compileRouteTable.ts';
import { formatProblem } from '../src/config/problems.ts';

const GATEWAY_BIN = path.resolve(import.meta.dirname, '../bin/gateway.mjs');
const SHIPPED_ROUTES = path.resolve(import.meta.dirname, '../../routes.yaml');

/** A routes file whose thoughts route (line 6) carries `rollout` (its lines start at line 12). */
function withRollout(rollout: string, { split = '{ thoughts: 5 }', shadow = '{ to: thoughts }', extraRoute = '' } = {}): string {
  return `backends:
  legacy: { url: http://127.0.0.1:8001, legacy: true }
  users: { url: http://127.0.0.1:8002 }
  thoughts: { url: http://127.0.0.1:8003 }
routes:
  - name: thoughts
    match: { path: /api/thoughts/** }
    group: thoughts
    split: ${split}
    fallback: legacy
    shadow: ${shadow}
    rollout:
${rollout
  .split('\n')
  .map((line) => `      ${line}`)
  .join('\n')}
${extraRoute}  - { name: internal, match: { path: [/admin/**, /metrics] }, deny: 404 }
  - { name: site, match: { path: /** }, split: {} }
`;
}

function problemsOf(text: string): string[] {
  const result = compileRouteTable(text, 'routes.yaml');
  if (result.ok) throw new Error('expected the file to be rejected');
  return result.problems.map(formatProblem);
}

const FIELD = 'routes[0] (thoughts).rollout';

describe('rollout: block validation', () => {
  it('accepts the documented block and fills every default', () => {
    const result = compileRouteTable(withRollout('steps: [5, 25, pause, 50, 100]'), 'routes.yaml');
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
    const { line: _line, ...rollout } = result.table.routes[0]!.rollout!;
    expect(rollout).toEqual({
      backend: 'thoughts',
      steps: [5, 25, 'pause', 50, 100],
      intervalSeconds: 60,
      minRequests: 100,
      maxErrorPercent: 1,
      maxP95Ms: 1000,
      maxP95Ratio: 1.5,
      maxMismatchPercent: 1,
      minComparisons: 50,
      failureLimit: 2,
      onFailure: 'rollback',
      notify: [],
    });
    expect(Object.isFrozen(result.table.routes[0]!.rollout)).toBe(true);
  });

  it('a route without a shadow has no parity gate', () => {
    const result = compileRouteTable(withRollout('steps: [10, 100]', { shadow: 'null' }).replace('    shadow: null\n', ''), 'routes.yaml');
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
    expect(result.table.routes[0]!.rollout!.maxMismatchPercent).toBeNull();
  });

  it.each([
    [
      'steps that do not rise',
      'steps: [5, 25, 25, 100]',
      [`routes.yaml:13: ${FIELD}.steps[2]: 25 does not rise: the step before is 25; steps go up, e.g. [5, 25, 50, 100]`],
    ],
    [
      'a percent above 100',
      'steps: [5, 150]',
      [`routes.yaml:13: ${FIELD}.steps[1]: 150 is not allowed: a percent from 0 to 100 (at most two decimals) or pause`],
    ],
    [
      'a negative percent',
      'steps: [-5, 50]',
      [`routes.yaml:13: ${FIELD}.steps[0]: -5 is not allowed: a percent from 0 to 100 (at most two decimals) or pause`],
    ],
    [
      'a word that is not pause',
      'steps: [5, wait, 50]',
      [`routes.yaml:13: ${FIELD}.steps[1]: must be a percent from 0 to 100 (at most two decimals) or pause`],
    ],
    ['a pause last', 'steps: [5, 50, pause]', [`routes.yaml:13: ${FIELD}.steps[2]: the last step cannot be pause: nothing comes after it to promote to`]],
    [
      'two pauses in a row',
      'steps: [5, pause, pause, 50]',
      [`routes.yaml:13: ${FIELD}.steps[2]: two pauses in a row: one already waits for gateway rollout promote`],
    ],
    ['no steps', 'interval_seconds: 5', [`routes.yaml:13: ${FIELD}.steps: is required: the new backend's percent per step, e.g. [5, 25, pause, 50, 100]`]],
    [
      'an interval under 1 s',
      'steps: [5, 100]\ninterval_seconds: 0.5',
      [`routes.yaml:14: ${FIELD}.interval_seconds: 0.5 is not allowed: a whole number from 1 to 86400 (seconds each step is watched before it is judged)`],
    ],
    [
      'an unknown key, with did you mean',
      'steps: [5, 100]\nmax_eror_percent: 2',
      [
        `routes.yaml:14: ${FIELD}.max_eror_percent: unknown key 'max_eror_percent' (did you mean 'max_error_percent'?); allowed here: steps, interval_seconds, min_requests, max_error_percent, max_p95_ms, max_p95_ratio, max_mismatch_percent, min_comparisons, failure_limit, on_failure, notify`,
      ],
    ],
    [
      'an unknown on_failure',
      'steps: [5, 100]\non_failure: retry',
      [`routes.yaml:14: ${FIELD}.on_failure: 'retry' is not allowed: rollback (the new share to 0) or pause (hold for a human)`],
    ],
    [
      'a webhook that is not a URL',
      'steps: [5, 100]\nnotify: [hooks.internal/migration]',
      [`routes.yaml:14: ${FIELD}.notify: 'hooks.internal/migration' is not an http(s) URL; each webhook gets a JSON POST per event`],
    ],
    [
      'a failure_limit of 0',
      'steps: [5, 100]\nfailure_limit: 0',
      [`routes.yaml:14: ${FIELD}.failure_limit: 0 is not allowed: a whole number from 1 to 1000 (failed checks in a row before on_failure)`],
    ],
  ])('rejects %s with file:line and field', (_what, rollout, expected) => {
    expect(problemsOf(withRollout(rollout))).toEqual(expected);
  });

  it('rejects a split with more than one new backend', () => {
    expect(problemsOf(withRollout('steps: [5, 100]', { split: '{ thoughts: 5, users: 5 }' }))).toEqual([
      `routes.yaml:13: ${FIELD}: the split names 2 new backends (thoughts, users); a rollout moves one: raising the first would also take clients from the second`,
    ]);
  });

  it('rejects a parity gate without a shadow towards the rolled-out backend', () => {
    expect(problemsOf(withRollout('steps: [5, 100]\nmax_mismatch_percent: 1', { shadow: '{ to: users }' }))).toEqual([
      `routes.yaml:14: ${FIELD}.max_mismatch_percent: the parity gate compares thoughts's answers with the legacy ones, but the route's shadow goes to users: add shadow: { to: thoughts, percent: 100 } to the route`,
    ]);
  });

  it('rejects a second rollout in the same group', () => {
    const second = `  - name: my-thoughts
    match: { path: /api/me/thoughts/** }
    group: thoughts
    split: { thoughts: 5 }
    rollout: { steps: [5, 100] }
`;
    expect(problemsOf(withRollout('steps: [5, 100]', { extraRoute: second }))).toEqual([
      'routes.yaml:18: routes (my-thoughts).rollout: route thoughts already rolls out group thoughts; the routes of a group move together, so one rollout: block per group',
    ]);
  });

  it('the shipped routes.yaml runs no rollout, and its commented example block validates as written', () => {
    const shipped = readFileSync(SHIPPED_ROUTES, 'utf8');
    const result = compileRouteTable(shipped, SHIPPED_ROUTES);
    expect(result.ok && result.table.routes.every((r) => r.rollout === null)).toBe(true);
    // Uncommented as an operator would: the shadow line, then the block under `# rollout:`.
    const lines = shipped.replace('    # shadow: { to: thoughts, percent: 100 }', '    shadow: { to: thoughts, percent: 100 }').split('\n');
    const start = lines.indexOf('    # rollout:');
    expect(start).toBeGreaterThan(0);
    let end = start + 1;
    while (lines[end]!.startsWith('    #   ')) end += 1;
    const block = ['    rollout:', ...lines.slice(start + 1, end).map((line) => `      ${line.slice('    #   '.length)}`)];
    const uncommented = compileRouteTable([...lines.slice(0, start), ...block, ...lines.slice(end)].join('\n'), SHIPPED_ROUTES);
    if (!uncommented.ok) throw new Error(uncommented.problems.map(formatProblem).join('\n'));
    const thoughts = uncommented.table.routes.find((r) => r.name === 'thoughts')!;
    expect(thoughts.rollout).toMatchObject({
      steps: [5, 25, 'pause', 50, 100],
      intervalSeconds: 60,
      maxMismatchPercent: 0.5,
      notify: ['http://hooks.internal/migration'],
    });
  });

  it('`gateway validate` prints the problem with its line and exits 1', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rollout-validate-'));
    try {
      const file = path.join(dir, 'routes.yaml');
      writeFileSync(file, withRollout('steps: [50, 25]'));
      const run = spawnSync(process.execPath, [GATEWAY_BIN, 'validate', file], { encoding: 'utf8' });
      expect(run.status).toBe(1);
      expect(run.stderr + run.stdout).toContain(`${file}:13: ${FIELD}.steps[1]: 25 does not rise: the step before is 50`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

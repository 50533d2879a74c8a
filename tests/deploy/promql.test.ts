// Every metric that deploy/prometheus/rules.yml and the Grafana dashboard query exists: it
// is declared by the gateway or the shared back-end metrics (read from their sources, so a
// rename there fails here), is a recording rule of rules.yml, or is Prometheus's own `up`.
// Label names used in selectors and groupings exist too. With promtool installed (Debian
// `prometheus`), the rules, their unit tests and every dashboard expression are also run
// through it.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { panelsOfRow } from '../support/grafanaDashboard.ts';
import { REPO_ROOT } from './composeEnv.ts';

const RULES_FILE = path.join(REPO_ROOT, 'deploy/prometheus/rules.yml');
const DASHBOARD_DIR = path.join(REPO_ROOT, 'deploy/grafana/dashboards');
const METRIC_SOURCES = ['gateway/src/observe/metrics.ts', 'gateway/src/rollout/rolloutMetrics.ts', 'packages/shared/src/http/metrics.ts'];
/** Labels Prometheus adds to every scraped series (job, instance) and the backends' default label. */
const TARGET_LABELS = ['job', 'instance', 'service'];

/** The metrics the processes declare (prom-client `name:` and `labelNames:`), from their sources. */
function declaredMetrics(): Map<string, { type: string; labels: string[] }> {
  const metrics = new Map<string, { type: string; labels: string[] }>();
  for (const file of METRIC_SOURCES) {
    const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
    // A ScrapedHistogram (filled from plain counters at each scrape) declares a histogram too.
    for (const match of text.matchAll(/new (?:Scraped)?(Counter|Gauge|Histogram|Summary)\(\s*\{([\s\S]*?)\}(?:\)|,)/g)) {
      const body = match[2]!;
      const name = /name:\s*'([a-zA-Z_:][a-zA-Z0-9_:]*)'/.exec(body)?.[1];
      if (!name) continue;
      const labels = [...(/labelNames:\s*\[([^\]]*)\]/.exec(body)?.[1] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]!);
      metrics.set(name, { type: match[1]!, labels: [...labels, ...TARGET_LABELS] });
    }
  }
  return metrics;
}

/** Series names a metric exposes: histograms add _bucket (with le), _sum and _count. */
function exposedSeries(): Map<string, string[]> {
  const series = new Map<string, string[]>([['up', ['job', 'instance']]]);
  for (const [name, { type, labels }] of declaredMetrics()) {
    if (type === 'Histogram') {
      series.set(`${name}_bucket`, [...labels, 'le']);
      series.set(`${name}_sum`, labels);
      series.set(`${name}_count`, labels);
    } else {
      series.set(name, labels);
    }
  }
  return series;
}

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  labels?: Record<string, string>;
}
const rulesDoc = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
const rules = rulesDoc.groups.flatMap((g) => g.rules);
const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));

interface Panel {
  title?: string;
  type: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
  datasource?: { uid?: string };
}
const dashboards = readdirSync(DASHBOARD_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({
    file,
    json: JSON.parse(readFileSync(path.join(DASHBOARD_DIR, file), 'utf8')) as {
      uid: string;
      title: string;
      panels: Panel[];
      annotations?: { list: Annotation[] };
    },
  }));
interface Annotation {
  name: string;
  expr?: string;
  datasource?: { uid?: string };
  titleFormat?: string;
  tagKeys?: string;
}
const annotationsOf = (json: (typeof dashboards)[number]['json']) => json.annotations?.list ?? [];
const panelsOf = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);
const dashboardExprs = dashboards.flatMap(({ file, json }) =>
  panelsOf(json.panels).flatMap((p) => (p.targets ?? []).filter((t) => t.expr).map((t) => ({ where: `${file}: ${p.title}`, expr: t.expr! }))),
);
const annotationExprs = dashboards.flatMap(({ file, json }) =>
  annotationsOf(json)
    .filter((a) => a.expr)
    .map((a) => ({ where: `${file}: annotation ${a.name}`, expr: a.expr! })),
);
const ruleExprs = rules.map((r) => ({ where: `rules.yml: ${r.record ?? r.alert}`, expr: r.expr }));

const FUNCTIONS_AND_KEYWORDS = new Set([
  // aggregations and their modifiers
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
  'group',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  // functions used or likely
  'rate',
  'irate',
  'increase',
  'delta',
  'idelta',
  'deriv',
  'histogram_quantile',
  'vector',
  'scalar',
  'time',
  'abs',
  'round',
  'clamp',
  'clamp_min',
  'clamp_max',
  'ceil',
  'floor',
  'absent',
  'absent_over_time',
  'avg_over_time',
  'max_over_time',
  'min_over_time',
  'sum_over_time',
  'count_over_time',
  'last_over_time',
  'label_replace',
  'label_join',
  'changes',
  'resets',
  'timestamp',
]);

/** Metric names, label matchers and grouping labels of a PromQL expression (a small lexer, enough for these files). */
function analyse(expr: string): { metrics: { name: string; matchers: string[] }[]; groupingLabels: string[] } {
  const metrics: { name: string; matchers: string[] }[] = [];
  const groupingLabels: string[] = [];
  // Strings first ("..."), then ranges/offset durations ([5m]) go away.
  const text = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[[^\]]*\]/g, ' ');
  const token = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?|\{[^}]*\}|\d+(?:\.\d+)?(?:e[+-]?\d+)?/gy;
  let i = 0;
  let previousKeyword = '';
  while (i < text.length) {
    const ch = text[i]!;
    if (/[\s()+\-*/^%,=!<>]/.test(ch)) {
      i++;
      continue;
    }
    token.lastIndex = i;
    const m = token.exec(text);
    if (!m) throw new Error(`cannot read PromQL at "${text.slice(i, i + 20)}" in ${expr}`);
    i = token.lastIndex;
    const word = m[1];
    const braces = m[2] ?? (m[0].startsWith('{') ? m[0] : '');
    const matchers = braces
      .replace(/[{}]/g, '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const label = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/.exec(s);
        if (!label) throw new Error(`cannot read the label matcher "${s}" in ${expr}`);
        return label[1]!;
      });
    if (!word) {
      if (braces) metrics.push({ name: '', matchers }); // {__name__=~...}: a selector without a name
      continue;
    }
    const after = text.slice(i).trimStart();
    if (['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'].includes(word)) {
      const list = /^\(([^)]*)\)/.exec(after);
      if (list) {
        groupingLabels.push(
          ...list[1]!
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        );
        i += text.slice(i).indexOf(')') + 1;
      }
      previousKeyword = word;
      continue;
    }
    if (
      FUNCTIONS_AND_KEYWORDS.has(word) &&
      (after.startsWith('(') || ['bool', 'and', 'or', 'unless', 'offset'].includes(word) || /^(by|without)\b/.test(after))
    ) {
      previousKeyword = word;
      continue;
    }
    if (/^\d/.test(word)) continue;
    if (previousKeyword === 'offset') {
      previousKeyword = '';
      continue;
    }
    metrics.push({ name: word, matchers });
    previousKeyword = '';
  }
  return { metrics, groupingLabels };
}

const promtool = spawnSync('promtool', ['--version']).status === 0;

describe('PromQL in deploy/prometheus/rules.yml and the Grafana dashboards', () => {
  const series = exposedSeries();
  const allLabels = new Set([...[...series.values()].flat(), ...rules.flatMap((r) => Object.keys(r.labels ?? {}))]);

  it('reads the metric declarations of the gateway and the back ends', () => {
    const names = [...declaredMetrics().keys()];
    for (const name of [
      'gateway_requests_total',
      'gateway_request_duration_seconds',
      'gateway_route_weight_ratio',
      'gateway_upstream_errors_total',
      'gateway_shadow_comparisons_total',
      'gateway_config_reloads_total',
      'gateway_config_last_reload_success_timestamp_seconds',
      'http_requests_total',
      'http_request_duration_seconds',
    ])
      expect(names).toContain(name);
    expect(series.get('gateway_requests_total')).toEqual(expect.arrayContaining(['route', 'backend', 'decision', 'code']));
  });

  it('records the migration ratio overall and per route, and the error ratio per backend', () => {
    for (const name of ['gateway:migrated_ratio:rate5m', 'gateway:migrated_ratio_by_route:rate5m', 'gateway:error_ratio:rate5m'])
      expect(recorded).toContain(name);
    const rule = (name: string) => rules.find((r) => r.record === name)!.expr.replace(/\s+/g, ' ');
    expect(rule('gateway:migrated_ratio:rate5m')).toMatch(/sum\(rate\(gateway_requests_total\{backend!="legacy"[^}]*\}\[5m\]\)\)/);
    expect(rule('gateway:migrated_ratio_by_route:rate5m')).toMatch(/sum by \(route\)/);
    expect(rule('gateway:error_ratio:rate5m')).toMatch(/sum by \(backend\) \(rate\(gateway_requests_total\{code="5xx"\}\[5m\]\)\)/);
  });

  it.each([...ruleExprs, ...dashboardExprs, ...annotationExprs])('$where queries only metrics and labels that exist', ({ expr }) => {
    const { metrics, groupingLabels } = analyse(expr);
    expect(metrics.length, 'an expression with no metric was not understood').toBeGreaterThan(0);
    for (const { name, matchers } of metrics) {
      if (recorded.has(name)) {
        for (const label of matchers) expect(allLabels, `${name}{${label}}`).toContain(label);
        continue;
      }
      expect(series.has(name), `metric ${name} is not declared by the gateway or the back ends, nor recorded in rules.yml`).toBe(true);
      for (const label of matchers) expect(series.get(name), `${name} has no label ${label}`).toContain(label);
    }
    for (const label of groupingLabels) expect(allLabels, `grouping label ${label}`).toContain(label);
  });

  it('the lexer sees through functions, groupings, strings and ranges (and catches unknown names)', () => {
    expect(analyse('sum by (route) (rate(gateway_requests_total{backend!="le gacy", code=~"5.."}[5m])) / ignoring (backend) group_left sum(x:y:z)')).toEqual({
      metrics: [
        { name: 'gateway_requests_total', matchers: ['backend', 'code'] },
        { name: 'x:y:z', matchers: [] },
      ],
      groupingLabels: ['route', 'backend'],
    });
    expect(analyse('histogram_quantile(0.95, sum by (le) (rate(a_bucket[5m]))) or vector(0)').metrics.map((m) => m.name)).toEqual(['a_bucket']);
    expect(series.has('gateway_request_total')).toBe(false);
  });

  it('the dashboards use the provisioned Prometheus datasource and query the recording rules', () => {
    const provisioned = parse(readFileSync(path.join(REPO_ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yaml'), 'utf8')) as {
      datasources: { uid: string }[];
    };
    const uid = provisioned.datasources[0]!.uid;
    for (const { file, json } of dashboards) {
      expect(json.uid, file).toBeTruthy();
      for (const panel of panelsOf(json.panels).filter((p) => p.type !== 'row')) expect(panel.datasource?.uid, `${file}: ${panel.title}`).toBe(uid);
    }
    const used = dashboardExprs.map((e) => e.expr).join('\n');
    for (const name of [
      'gateway:migrated_ratio:rate5m',
      'gateway:migrated_ratio_by_route:rate5m',
      'gateway:error_ratio:rate5m',
      'gateway_shadow_comparisons_total',
      'gateway_route_weight_ratio',
    ]) {
      expect(used, name).toContain(name);
    }
    expect(used).toMatch(/gateway_request_duration_seconds|gateway:request_duration_seconds/);
  });

  it('the migration dashboard annotates every reload, rejected plan, shift, panic and rollout step', () => {
    const migration = dashboards.find(({ json }) => json.uid === 'mythoughts-migration') ?? dashboards[0]!;
    const annotations = annotationsOf(migration.json);
    const byMetric = (metric: string) => annotations.find((a) => a.expr?.includes(metric));
    expect(byMetric('gateway_config_last_reload_success_timestamp_seconds')?.expr).toMatch(/changes\(/);
    expect(byMetric('gateway_config_reloads_total')?.expr).toContain('result="failure"');
    const changes = byMetric('gateway_plan_changes_total')!;
    expect(changes.expr).toMatch(/by \(action, route\)/);
    expect([changes.titleFormat, changes.tagKeys]).toEqual(['{{action}} {{route}}', 'action,route']);
    for (const annotation of annotations) expect(annotation.datasource?.uid, annotation.name).toBe('prometheus');
  });

  it('the migration dashboard has a Progressive rollout row: the step line, the state, the gate values and the checks by result', () => {
    const row = panelsOfRow('Progressive rollout');
    const panelOf = (text: string) => row.find((p) => p.targets?.some((t) => t.expr?.includes(text)));
    const step = panelOf('gateway_rollout_percent');
    expect([step?.type, step?.fieldConfig?.defaults.custom?.lineInterpolation, step?.fieldConfig?.defaults.unit]).toEqual([
      'timeseries',
      'stepAfter',
      'percent',
    ]);
    expect(step!.targets![0]).toMatchObject({ expr: 'max by (route) (gateway_rollout_percent)', legendFormat: '{{route}}' });
    // The current state only: the series of the state a route is in is 1, every other 0.
    expect(panelOf('gateway_rollout_state')!.targets![0]!.expr).toMatch(/gateway_rollout_state\) == 1$/);
    expect(panelOf('gateway_rollout_gate_value')!.targets![0]!.expr).toBe('max by (route, gate) (gateway_rollout_gate_value)');
    expect(panelOf('gateway_rollout_checks_total')!.targets![0]!.expr).toMatch(/sum by \(route, result\) \(rate\(gateway_rollout_checks_total\[5m\]\)\)/);
    // Prometheus's own view of the gates: the recorded gateway_rollout:* series.
    for (const rule of ['gateway_rollout:backend_error_ratio:rate1m', 'gateway_rollout:shadow_mismatch_ratio:rate1m', 'gateway_rollout:p95_ratio:1m']) {
      expect(recorded).toContain(rule);
      expect(panelOf(rule), rule).toBeDefined();
    }
  });

  describe.skipIf(!promtool)('with promtool', () => {
    it('checks the rules and the scrape configuration', () => {
      execFileSync('promtool', ['check', 'rules', RULES_FILE], { stdio: 'pipe' });
      execFileSync('promtool', ['check', 'config', '--syntax-only', path.join(REPO_ROOT, 'deploy/prometheus/prometheus.yml')], { stdio: 'pipe' });
    });

    it('runs the rules unit tests (migrated ratio, per route, error ratio on synthetic series)', () => {
      const result = spawnSync('promtool', ['test', 'rules', path.join(REPO_ROOT, 'deploy/prometheus/rules.test.yml')], { encoding: 'utf8' });
      expect(result.status, result.stdout + result.stderr).toBe(0);
    });

    it('parses every dashboard expression', () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'promql-'));
      try {
        const file = path.join(dir, 'dashboard-rules.yml');
        const groups = [{ name: 'dashboard', rules: [...dashboardExprs, ...annotationExprs].map((e, i) => ({ record: `dashboard:expr_${i}`, expr: e.expr })) }];
        writeFileSync(file, stringify({ groups }));
        const result = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
        expect(result.status, result.stdout + result.stderr).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

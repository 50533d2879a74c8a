// Several replicas: two gateway processes on one routes.yaml (GATEWAY_ROLLOUT=off on both),
// a real Prometheus scraping both every second with the shipped rules.yml, and ONE
// `gateway rollout run` process reading the gates from that Prometheus (and scraped by it, for
// its gateway_rollout_* series). The steps it writes reach both replicas through their file
// watch; the Grafana dashboard's "Progressive rollout" row is then queried on that Prometheus.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../../gateway/test/helpers/http.ts';
import { parseMetrics, sample } from '../../gateway/test/helpers/routes.ts';
import type { RolloutView } from '../../gateway/src/rollout/rolloutView.ts';
import { MIGRATION_DASHBOARD, panelsOfRow } from '../support/grafanaDashboard.ts';
import { freePort } from '../support/ports.ts';
import { hasPrometheus, startPrometheus, type RunningPrometheus } from '../support/prometheus.ts';
import { waitHealthy } from '../support/processes.ts';
import { eventually, startTraffic, type Traffic } from '../support/rolloutTraffic.ts';
import { endProcess, spawnGateway } from '../support/gatewayProcess.ts';
import { rolloutPlan, startRolloutBackends, type RolloutBackends } from '../support/rolloutBackends.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

describe.skipIf(!hasPrometheus())('two gateway replicas, real Prometheus, one rollout controller', () => {
  let backends: RolloutBackends;
  let dir: string;
  let routesFile: string;
  const children: ChildProcess[] = [];
  const replicas: { url: string; adminUrl: string }[] = [];
  let controllerUrl: string;
  let prometheusUrl: string;
  let startedAt: number;
  let traffic: Traffic | undefined;
  let prometheus: RunningPrometheus | undefined;

  function spawnChild(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
    const child = spawnGateway(args, routesFile, env);
    children.push(child);
    return child;
  }

  beforeAll(async () => {
    backends = await startRolloutBackends();
    dir = mkdtempSync(path.join(tmpdir(), 'rollout-prometheus-'));
    routesFile = path.join(dir, 'routes.yaml');
    writeFileSync(
      routesFile,
      rolloutPlan(backends, { rollout: 'steps: [10, 50], interval_seconds: 5, min_requests: 5, min_comparisons: 10, max_p95_ratio: 50, max_p95_ms: 3000' }),
    );
    for (let i = 0; i < 2; i++) {
      const [port, adminPort] = [await freePort(), await freePort()];
      const child = spawnChild(['serve'], { GATEWAY_PORT: String(port), GATEWAY_ADMIN_PORT: String(adminPort), GATEWAY_ROLLOUT: 'off' });
      replicas.push({ url: `http://127.0.0.1:${port}`, adminUrl: `http://127.0.0.1:${adminPort}` });
      await waitHealthy(`http://127.0.0.1:${adminPort}/readyz`, child);
    }

    const controllerPort = await freePort();
    controllerUrl = `http://127.0.0.1:${controllerPort}`;
    prometheus = await startPrometheus(
      {
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [path.join(REPO_ROOT, 'deploy/prometheus/rules.yml')],
        scrape_configs: [
          { job_name: 'gateway', static_configs: [{ targets: [...replicas.map((r) => r.adminUrl), controllerUrl].map((url) => new URL(url).host) }] },
        ],
      },
      dir,
    );
    prometheusUrl = prometheus.url;
    traffic = startTraffic(replicas.map((r) => r.url));
    // Both targets up before the controller judges anything.
    await eventually('both replicas scraped', 20_000, async () => {
      const targets = (await send(`${prometheusUrl}/api/v1/targets`)).json<{ data: { activeTargets: { health: string }[] } }>();
      return targets.data.activeTargets.filter((t) => t.health === 'up').length === 2 ? true : undefined;
    });

    startedAt = Date.now() / 1000;
    const controller = spawnChild(['rollout', 'run'], { GATEWAY_PROMETHEUS_URL: prometheusUrl, GATEWAY_ROLLOUT_ADMIN_PORT: String(controllerPort) });
    await waitHealthy(`${controllerUrl}/readyz`, controller);
  }, 90_000);

  afterAll(async () => {
    await traffic?.stop();
    await Promise.all(children.map((child) => endProcess(child)));
    await prometheus?.stop();
    await backends?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const status = async () => (await send(`${controllerUrl}/api/rollout/thoughts`)).json<RolloutView>();

  it('steps from the gates summed over both replicas; both replicas run every step', async () => {
    await eventually('10 % on both replicas', 20_000, async () => {
      const plans = await Promise.all(
        replicas.map(async (r) => (await send(`${r.adminUrl}/api/plan`)).json<{ routes: { name: string; split: Record<string, number> }[] }>()),
      );
      return plans.every((p) => p.routes.find((route) => route.name === 'thoughts')!.split.thoughts === 10) ? true : undefined;
    });
    const completed = await eventually('completed at 50 %', 45_000, async () => {
      const view = await status();
      return view.status === 'completed' ? view : undefined;
    }).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(await status())}; Prometheus log: ${prometheus?.log.join('')}`);
    });
    expect(completed.percent).toBe(50);
    expect(completed.lastCheck!.verdict).toBe('passed');
    expect(/split: \{ thoughts: 50 \}/.test(readFileSync(routesFile, 'utf8'))).toBe(true);

    // Each replica served part of the new backend's attempts the controller judged: neither one alone.
    const attempts = await Promise.all(
      replicas.map(
        async (r) =>
          parseMetrics((await send(`${r.adminUrl}/metrics`)).body).get(
            sample('gateway_backend_attempts_total', { route: 'thoughts', backend: 'thoughts', result: 'ok' }),
          ) ?? 0,
      ),
    );
    expect(attempts.every((n) => n > 0)).toBe(true);
    // The replicas run no controller of their own; the controller process has the rollout's series.
    for (const replica of replicas) expect((await send(`${replica.adminUrl}/metrics`)).body).not.toContain('gateway_rollout_percent');
    const own = parseMetrics((await send(`${controllerUrl}/metrics`)).body);
    expect(own.get(sample('gateway_rollout_percent', { route: 'thoughts' }))).toBe(50);
    expect(own.get(sample('gateway_rollout_checks_total', { route: 'thoughts', result: 'passed' }))).toBeGreaterThanOrEqual(1);

    // The shipped recording rules see the same traffic.
    const recorded = (
      await send(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent('gateway_rollout:backend_error_ratio:rate1m{backend="thoughts"}')}`)
    ).json<{ data: { result: { value: [number, string] }[] } }>();
    expect(recorded.data.result.map((r) => Number(r.value[1]))).toEqual([0]);
    expect(traffic!.fiveHundreds()).toBe(0);
  });

  /** A PromQL query on the test's Prometheus: instant, or over the whole test at 1 s steps. */
  async function query(expr: string, range = false): Promise<{ metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[]> {
    // The range ends now (a whole number of steps from its start), so the last scrape is in it.
    const end = Date.now() / 1000;
    const params = new URLSearchParams({ query: expr, ...(range ? { start: String(end - Math.ceil(end - startedAt)), end: String(end), step: '1' } : {}) });
    const reply = (await send(`${prometheusUrl}/api/v1/${range ? 'query_range' : 'query'}?${params}`)).json<{
      status: string;
      error?: string;
      data: { result: [] };
    }>();
    if (reply.status !== 'success') throw new Error(`Prometheus refused ${expr}: ${reply.error}`);
    return reply.data.result;
  }

  it('draws the Grafana "Progressive rollout" row from it: the step line, the state, the gates, the checks, the step annotations', async () => {
    // Prometheus scrapes every second: wait for its scrape of the completed rollout.
    await eventually('the completed rollout scraped', 10_000, async () =>
      (await query('gateway_rollout_state{state="completed"} == 1')).length === 1 ? true : undefined,
    );
    const row = panelsOfRow('Progressive rollout');
    const exprs = row.flatMap((panel) => (panel.targets ?? []).map((t) => ({ panel: panel.title, expr: t.expr! })));
    expect(exprs.length).toBeGreaterThanOrEqual(6);
    // Every expression of the row is valid PromQL and has data for the route under rollout.
    for (const { panel, expr } of exprs) {
      const routes = (await query(expr)).map((r) => r.metric.route);
      expect(routes, `${panel}: ${expr}`).toContain('thoughts');
    }
    const instant = async (expr: string) => (await query(expr)).map((r): Record<string, string | number> => ({ ...r.metric, value: Number(r.value![1]) }));
    const exprOf = (metric: string) => exprs.find((e) => e.expr.includes(metric))!.expr;

    // The step line went through both steps, one after the other.
    const [line] = await query(exprOf('gateway_rollout_percent'), true);
    const steps = line!.values!.map(([, value]) => Number(value)).filter((value, i, all) => i === 0 || value !== all[i - 1]);
    expect(steps.slice(-2)).toEqual([10, 50]);
    expect(await instant(exprOf('gateway_rollout_state'))).toEqual([{ route: 'thoughts', state: 'completed', value: 1 }]);
    const gates = await instant(exprOf('gateway_rollout_gate_value'));
    expect(gates.map((g) => g.gate).sort()).toEqual(['comparisons', 'error_percent', 'mismatch_percent', 'p95_ms', 'p95_ratio', 'requests']);
    expect(gates.find((g) => g.gate === 'requests')!.value).toBeGreaterThanOrEqual(5);
    const checks = await instant(exprOf('gateway_rollout_checks_total'));
    expect(checks.find((c) => c.result === 'passed')!.value).toBeGreaterThan(0);
    const errors = await instant(exprOf('gateway_rollout:backend_error_ratio:rate1m'));
    expect(errors.map((e) => [e.route, e.backend, e.value])).toContainEqual(['thoughts', 'thoughts', 0]);
    expect((await instant(exprOf('gateway_rollout:p95_ratio:1m'))).find((r) => r.route === 'thoughts')!.value).toBeGreaterThan(0);

    // The dashboard's plan-change annotation marks the steps (a rollback is the same series with action="rollback").
    const annotations = (JSON.parse(readFileSync(MIGRATION_DASHBOARD, 'utf8')) as { annotations: { list: { expr: string }[] } }).annotations.list;
    const changes = await query(annotations.find((a) => a.expr.includes('gateway_plan_changes_total'))!.expr, true);
    expect(changes.map((c) => `${c.metric.action} ${c.metric.route}`)).toEqual(['step thoughts']);
    expect(traffic!.fiveHundreds()).toBe(0);
  });
});

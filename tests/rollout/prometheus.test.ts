// Several replicas: two gateway processes on one routes.yaml (GATEWAY_ROLLOUT=off on both),
// a real Prometheus scraping both every second with the shipped rules.yml, and ONE
// `gateway rollout run` process reading the gates from that Prometheus. The steps it writes
// reach both replicas through their file watch.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { send } from '../../gateway/test/helpers/http.ts';
import { parseMetrics, sample } from '../../gateway/test/helpers/routes.ts';
import type { RolloutView } from '../../gateway/src/rollout/rolloutView.ts';
import { freePort } from '../support/ports.ts';
import { waitHealthy } from '../support/processes.ts';
import { eventually, startTraffic, type Traffic } from '../support/rolloutTraffic.ts';
import { endProcess, spawnGateway } from '../support/gatewayProcess.ts';
import { rolloutPlan, startRolloutBackends, type RolloutBackends } from '../support/rolloutBackends.ts';

const PROMETHEUS = '/usr/bin/prometheus';
const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

describe.skipIf(!existsSync(PROMETHEUS))('two gateway replicas, real Prometheus, one rollout controller', () => {
  let backends: RolloutBackends;
  let dir: string;
  let routesFile: string;
  const children: ChildProcess[] = [];
  const replicas: { url: string; adminUrl: string }[] = [];
  let controllerUrl: string;
  let prometheusUrl: string;
  let traffic: Traffic | undefined;
  const prometheusLog: string[] = [];

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

    const prometheusPort = await freePort();
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    const configFile = path.join(dir, 'prometheus.yml');
    writeFileSync(
      configFile,
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [path.join(REPO_ROOT, 'deploy/prometheus/rules.yml')],
        scrape_configs: [{ job_name: 'gateway', static_configs: [{ targets: replicas.map((r) => new URL(r.adminUrl).host) }] }],
      }),
    );
    const prometheus = spawn(
      PROMETHEUS,
      [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${prometheusPort}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(prometheus);
    prometheus.stderr!.on('data', (chunk: Buffer) => prometheusLog.push(chunk.toString()));
    await eventually('Prometheus ready', 20_000, async () => ((await send(`${prometheusUrl}/-/ready`).catch(() => null))?.status === 200 ? true : undefined));
    traffic = startTraffic(replicas.map((r) => r.url));
    // Both targets up before the controller judges anything.
    await eventually('both replicas scraped', 20_000, async () => {
      const targets = (await send(`${prometheusUrl}/api/v1/targets`)).json<{ data: { activeTargets: { health: string }[] } }>();
      return targets.data.activeTargets.filter((t) => t.health === 'up').length === 2 ? true : undefined;
    });

    const controllerPort = await freePort();
    controllerUrl = `http://127.0.0.1:${controllerPort}`;
    const controller = spawnChild(['rollout', 'run'], { GATEWAY_PROMETHEUS_URL: prometheusUrl, GATEWAY_ROLLOUT_ADMIN_PORT: String(controllerPort) });
    await waitHealthy(`${controllerUrl}/readyz`, controller);
  }, 90_000);

  afterAll(async () => {
    await traffic?.stop();
    await Promise.all(children.map((child) => endProcess(child)));
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
      throw new Error(`${error.message}: ${JSON.stringify(await status())}; Prometheus log: ${prometheusLog.join('')}`);
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
    await traffic!.stop();
    expect(traffic!.fiveHundreds()).toBe(0);
  });
});

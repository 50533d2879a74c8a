// The shipped Prometheus files against a real Prometheus (Debian `prometheus`): a scrape
// config generated from deploy/prometheus/prometheus.yml (same job, same bearer-token
// authorization, pointed at a test gateway's admin port, 1 s intervals) and the shipped
// rules.yml. Traffic at a known split goes through the gateway; the recorded
// gateway:migrated_ratio:rate5m must come out within ±5 points of what the gateway served.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { send } from '../../gateway/test/helpers/http.ts';
import { startOpsSystem, type OpsSystem } from '../../gateway/test/helpers/opsFixture.ts';
import { freePort } from '../support/ports.ts';
import { cohortCookie } from '../../gateway/test/helpers/cohort.ts';

const PROMETHEUS = '/usr/bin/prometheus';
const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const SHIPPED_CONFIG = path.join(REPO_ROOT, 'deploy/prometheus/prometheus.yml');
const DASHBOARD = path.join(REPO_ROOT, 'deploy/grafana/dashboards/mythoughts-migration.json');
const TOKEN = 'prometheus-test-token';
const CLIENTS = 400;
const SHARE = 40;

interface ScrapeConfig {
  job_name: string;
  static_configs: { targets: string[] }[];
  authorization?: { type: string; credentials_file: string };
  scrape_interval?: string;
}

/** The shipped config with only its gateway job, aimed at `target`, scraping every second. */
function prometheusConfig(target: string, tokenFile: string): string {
  const shipped = parse(readFileSync(SHIPPED_CONFIG, 'utf8')) as { global: Record<string, unknown>; rule_files: string[]; scrape_configs: ScrapeConfig[] };
  const gatewayJob = shipped.scrape_configs.find((job) => job.job_name === 'gateway');
  if (!gatewayJob?.authorization) throw new Error('deploy/prometheus/prometheus.yml has no gateway job with bearer authorization');
  return stringify({
    global: { ...shipped.global, scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: shipped.rule_files.map((file) => path.resolve(path.dirname(SHIPPED_CONFIG), file)),
    scrape_configs: [{ ...gatewayJob, static_configs: [{ targets: [target] }], authorization: { ...gatewayJob.authorization, credentials_file: tokenFile } }],
  });
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe.skipIf(!existsSync(PROMETHEUS))('Prometheus with the shipped config and rules', () => {
  let system: OpsSystem;
  let prometheus: ChildProcess;
  let prometheusUrl: string;
  let dir: string;
  const prometheusLog: string[] = [];

  beforeAll(async () => {
    system = await startOpsSystem({ adminToken: TOKEN });
    dir = mkdtempSync(path.join(tmpdir(), 'prometheus-test-'));
    const tokenFile = path.join(dir, 'gateway-admin-token');
    writeFileSync(tokenFile, TOKEN);
    const configFile = path.join(dir, 'prometheus.yml');
    writeFileSync(configFile, prometheusConfig(new URL(system.gateway.adminUrl!).host, tokenFile));
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      PROMETHEUS,
      [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.on('data', (chunk: Buffer) => prometheusLog.push(chunk.toString()));
    prometheus.stderr!.on('data', (chunk: Buffer) => prometheusLog.push(chunk.toString()));
    await waitFor('Prometheus ready', 15_000, async () => ((await send(`${prometheusUrl}/-/ready`)).status === 200 ? true : undefined));
  });

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await system?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`records gateway:migrated_ratio:rate5m within ±5 points of a ${SHARE} % split`, async () => {
    const shifted = await send(`${system.gateway.adminUrl}/api/routes/thoughts/split`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ backend: 'thoughts', percent: SHARE }),
    });
    expect(shifted.status, shifted.body).toBe(200);

    // Every client sends the same number of requests, round after round, while Prometheus
    // scrapes (rate() needs the counters to move between scrapes).
    const onThoughts = new Set<number>();
    let sent = 0;
    let stop = false;
    const traffic = (async () => {
      while (!stop) {
        const client = sent % CLIENTS;
        const reply = await send(`${system.gateway.url}/api/thoughts/${client}`, { headers: { cookie: cohortCookie(`prom-${client}`) } });
        if (reply.headers['x-backend'] === 'thoughts') onThoughts.add(client);
        sent += 1;
      }
    })();
    try {
      await waitFor('every client answered once', 10_000, async () => (sent >= CLIENTS ? true : undefined));
      const expected = onThoughts.size / CLIENTS;
      expect(Math.abs(expected - SHARE / 100), 'the gateway itself served the configured split').toBeLessThan(0.05);

      let lastValue: number | null = null;
      const recorded = await waitFor('gateway:migrated_ratio:rate5m near the served split', 25_000, async () => {
        const reply = await send(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent('gateway:migrated_ratio:rate5m')}`);
        const result = reply.json<{ data: { result: { value: [number, string] }[] } }>().data.result;
        if (result.length === 0) return undefined;
        lastValue = Number(result[0]!.value[1]);
        return Math.abs(lastValue - expected) <= 0.05 ? lastValue : undefined;
      }).catch((error: Error) => {
        throw new Error(`${error.message}; last value ${lastValue}, expected ${expected}; Prometheus log:\n${prometheusLog.join('')}`);
      });
      expect(Math.abs(recorded - expected)).toBeLessThanOrEqual(0.05);

      // The scrape went through the shipped bearer-token authorization.
      const targets = (await send(`${prometheusUrl}/api/v1/targets`)).json<{ data: { activeTargets: { labels: { job: string }; health: string }[] } }>();
      expect(targets.data.activeTargets.map((t) => `${t.labels.job} ${t.health}`)).toEqual(['gateway up']);
    } finally {
      stop = true;
      await traffic;
    }
  });

  it("draws the migration dashboard's annotations: the panic and the reload it caused", async () => {
    const annotations = (JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { annotations: { list: { name: string; expr: string }[] } }).annotations.list;
    const exprOf = (metric: string) => annotations.find((a) => a.expr.includes(metric))!.expr;
    const query = async (expr: string) =>
      (await send(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`))
        .json<{ data: { result: { metric: Record<string, string> }[] } }>()
        .data.result.map((r) => r.metric);
    // Prometheus has scraped the counters at 0 by now (the test above ran for seconds).
    const panic = await send(`${system.gateway.adminUrl}/api/panic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ route: 'thoughts', reason: 'annotation test' }),
    });
    expect(panic.status, panic.body).toBe(200);
    const changes = await waitFor('the panic annotation', 15_000, async () => {
      const series = await query(exprOf('gateway_plan_changes_total'));
      return series.some((m) => m.action === 'panic') ? series : undefined;
    });
    // The group moves together: one annotation per route of it.
    expect(
      changes
        .filter((m) => m.action === 'panic')
        .map((m) => m.route)
        .sort(),
    ).toEqual(['my-thoughts', 'thoughts']);
    expect(await query(exprOf('gateway_config_last_reload_success_timestamp_seconds'))).toHaveLength(1);
  });
});

// The rollout's ejection rule read from a real Prometheus, with replica clocks two minutes
// apart: each "replica" is the gateway's own metrics registry on an injected clock, served on
// a loopback /metrics that Prometheus scrapes. PrometheusGateReader must find each ejection's
// distance to its own replica's plan, whatever that replica's clock says.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../gateway/src/config/routeTable.ts';
import { OutlierDetector } from '../../gateway/src/decide/outlierDetector.ts';
import { GatewayMetrics } from '../../gateway/src/observe/metrics.ts';
import { PrometheusGateReader } from '../../gateway/src/rollout/prometheusGateReader.ts';
import { send } from '../../gateway/test/helpers/http.ts';
import { hasPrometheus, startPrometheus, type RunningPrometheus } from '../support/prometheus.ts';
import { eventually } from '../support/rolloutTraffic.ts';

const SKEW_MS = 120_000;
const OUTLIER = { consecutiveFailures: 3, cooldownMs: 3_600_000 };
const backend = (name: string): Backend => ({ name, origin: 'http://127.0.0.1:1', legacy: false, connectTimeoutMs: 1000, responseTimeoutMs: 1000 });

/** One replica's metrics on its own clock (`offsetMs` from the true time), on a /metrics of its own. */
class Replica {
  readonly metrics: GatewayMetrics;
  readonly outliers: OutlierDetector;
  private server: Server | null = null;

  constructor(trueTime: () => number, offsetMs: number) {
    const clock = () => trueTime() + offsetMs;
    this.metrics = new GatewayMetrics({ defaultMetrics: false, now: clock });
    this.outliers = new OutlierDetector(() => undefined, clock);
    this.metrics.showEjections(() => this.outliers.ejectedSince());
  }

  ejects(name: string): void {
    for (let i = 0; i < OUTLIER.consecutiveFailures; i++) this.outliers.recordFailure(backend(name), OUTLIER);
  }

  /** Serves /metrics on a free loopback port; resolves to `host:port`. */
  async listen(): Promise<string> {
    const server = createServer((_req, res) => {
      void this.metrics.registry.metrics().then((text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe.skipIf(!hasPrometheus())('the ejection rule from Prometheus, replica clocks two minutes apart', () => {
  let now = Date.now();
  const replicas = { ahead: new Replica(() => now, SKEW_MS), behind: new Replica(() => now, -SKEW_MS) };
  let prometheus: RunningPrometheus;
  let dir: string;

  beforeAll(async () => {
    // The story, on the true time: both replicas apply the step's plan at +110 s; the one ahead
    // ejected `thoughts` at +100 s (10 s before), the one behind ejects `users` at +130 s (20 s after).
    const start = now;
    now = start + 100_000;
    replicas.ahead.ejects('thoughts');
    now = start + 110_000;
    for (const replica of Object.values(replicas)) replica.metrics.showPlanVersion('step-plan');
    now = start + 130_000;
    replicas.behind.ejects('users');

    dir = mkdtempSync(path.join(tmpdir(), 'ejection-prometheus-'));
    const targets = await Promise.all(Object.values(replicas).map((replica) => replica.listen()));
    prometheus = await startPrometheus(
      { global: { scrape_interval: '1s', evaluation_interval: '1s' }, scrape_configs: [{ job_name: 'gateway', static_configs: [{ targets }] }] },
      dir,
    );
    await eventually('both replicas scraped, with their ejections', 20_000, async () => {
      const answer = (await send(`${prometheus.url}/api/v1/query?query=count(gateway_backend_ejected_since_seconds)`)).json<{
        data: { result: { value: [number, string] }[] };
      }>();
      return answer.data.result[0]?.value[1] === '2' ? true : undefined;
    });
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(Object.values(replicas).map((replica) => replica.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds the ejection on the replica ahead 10 s before its plan, and the one on the replica behind 20 s after', async () => {
    const reader = new PrometheusGateReader(prometheus.url);
    const query = (name: string) => ({ routes: ['thoughts'], backend: name, legacy: 'legacy' });
    // Wall clocks compared with a leader's would put them at +120 s and −120 s from the step.
    expect((await reader.read('thoughts', query('thoughts'), 60)).ejectedAfterPlanMs).toBeCloseTo(-10_000, -1);
    expect((await reader.read('users', query('users'), 60)).ejectedAfterPlanMs).toBeCloseTo(20_000, -1);
    expect((await reader.read('other', query('other'), 60)).ejectedAfterPlanMs).toBeNull();
  });
});

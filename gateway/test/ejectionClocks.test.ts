// The rollout's ejection rule on a fleet whose clocks disagree. Each replica's clock is
// injected (its outlier detector and the time it applied a plan read the same one), its
// numbers travel the real way — MetricsPublisher on its lease in a real etcd, read back by
// fleetMetrics — and the leader judges them with LocalGateReader and evaluateGates. A replica
// two minutes ahead and one two minutes behind must get the verdict a synchronised fleet gets.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLOUT_DEFAULTS, type RolloutConfig } from '../src/config/routesConfig.ts';
import type { Backend } from '../src/config/routeTable.ts';
import { OutlierDetector } from '../src/decide/outlierDetector.ts';
import type { EtcdConnection } from '../src/etcd/etcdConnection.ts';
import { fleetMetrics } from '../src/fleet/fleetReader.ts';
import { MetricsPublisher } from '../src/fleet/metricsPublisher.ts';
import { ReplicaLease } from '../src/fleet/replicaLease.ts';
import { createGatewayLogger } from '../src/observe/logger.ts';
import { GatewayMetrics } from '../src/observe/metrics.ts';
import { TrafficWindow } from '../src/observe/trafficWindow.ts';
import { evaluateGates, type GateResult } from '../src/rollout/gates.ts';
import { LocalGateReader } from '../src/rollout/localGateReader.ts';
import { MismatchStore } from '../src/shadow/mismatchStore.ts';
import { NoiseModel } from '../src/shadow/noiseModel.ts';
import { startThrowawayEtcd, type ThrowawayEtcd } from '../../tests/support/etcd.ts';

const CONFIG: RolloutConfig = { ...ROLLOUT_DEFAULTS, backend: 'thoughts', steps: [10, 50, 100], maxMismatchPercent: null, notify: [], line: 1 };
const QUERY = { routes: ['thoughts'], backend: 'thoughts', legacy: 'legacy' };
const THOUGHTS: Backend = { name: 'thoughts', origin: 'http://127.0.0.1:1', legacy: false, connectTimeoutMs: 1000, responseTimeoutMs: 1000 };
const OUTLIER = { consecutiveFailures: 3, cooldownMs: 600_000 };
const SKEW_MS = 120_000;
const logger = createGatewayLogger(new Writable({ write: (_chunk, _encoding, done) => done() }));

let etcd: ThrowawayEtcd;
beforeAll(async () => {
  etcd = await startThrowawayEtcd();
});
afterAll(async () => {
  await etcd.close();
});

/** One replica's numbers on its own clock: `offsetMs` ahead of the true time (negative: behind). */
class Replica {
  readonly metrics: GatewayMetrics;
  private readonly outliers: OutlierDetector;
  private readonly lease: ReplicaLease;
  private readonly publisher: MetricsPublisher;

  constructor(connection: EtcdConnection, id: string, trueTime: () => number, offsetMs: number) {
    const clock = () => trueTime() + offsetMs;
    this.metrics = new GatewayMetrics({ defaultMetrics: false, now: clock });
    this.outliers = new OutlierDetector(() => undefined, clock);
    this.metrics.showEjections(() => this.outliers.ejectedSince());
    this.lease = new ReplicaLease(connection.keys, 5, logger);
    const numbers = {
      registry: this.metrics.registry,
      window: new TrafficWindow(),
      // No client has come through these replicas: only their counters matter here.
      recentClients: () => ({ file: 'etcd', salt: 'test', windowSeconds: 300, groups: {} }),
      shadowFindings: { store: new MismatchStore(), noise: new NoiseModel() },
    };
    // Published on demand below (the period's timer never fires within a test).
    this.publisher = new MetricsPublisher(this.lease, id, numbers, 60_000, logger);
  }

  applies(version: string): void {
    this.metrics.showPlanVersion(version);
  }

  ejectsTheNewBackend(): void {
    for (let i = 0; i < OUTLIER.consecutiveFailures; i++) this.outliers.recordFailure(THOUGHTS, OUTLIER);
  }

  /** `count` requests dealt to the new backend: answered by it, or sent to the fallback while it is out. */
  serves(count: number): void {
    const result = this.outliers.isEjected(THOUGHTS) ? 'ejected' : 'ok';
    for (let i = 0; i < count; i++) this.metrics.countAttempt('thoughts', 'thoughts', result);
  }

  publish(): Promise<void> {
    return this.publisher.publish();
  }

  async close(): Promise<void> {
    await this.publisher.close();
    await this.lease.close();
  }
}

/**
 * A fleet of two replicas, one ahead and one behind, on the true time `at(ms)`. The story:
 * both run plan p0; the step's plan p1 reaches both at 110 s (the leader wrote it then, by its
 * own correct clock); `ejecting` takes the new backend out at `ejectedAt`; the leader's interval
 * runs from 120 s to 180 s with 200 requests on each replica. Returns the error gate.
 */
async function errorGate(ejecting: 'ahead' | 'behind', ejectedAt: number): Promise<GateResult> {
  let now = 0;
  const connection = etcd.connect(etcd.storeUrl());
  const replicas = { ahead: new Replica(connection, 'ahead', () => now, SKEW_MS), behind: new Replica(connection, 'behind', () => now, -SKEW_MS) };
  const all = Object.values(replicas);
  const publishAll = () => Promise.all(all.map((replica) => replica.publish()));
  const reader = new LocalGateReader(fleetMetrics(connection.keys));
  const story: [number, () => unknown][] = [
    [0, () => all.forEach((replica) => replica.applies('p0'))],
    [110_000, () => all.forEach((replica) => replica.applies('p1'))],
    [ejectedAt, () => replicas[ejecting].ejectsTheNewBackend()],
    [120_000, async () => (await publishAll(), await reader.startWindow('thoughts', QUERY))],
    [180_000, async () => (all.forEach((replica) => replica.serves(200)), await publishAll())],
  ];
  try {
    for (const [at, what] of story.sort((x, y) => x[0] - y[0])) {
      now = at;
      await what();
    }
    const gates = evaluateGates(await reader.read('thoughts', QUERY), CONFIG);
    return gates.find((gate) => gate.gate === 'error_percent')!;
  } finally {
    await Promise.all(all.map((replica) => replica.close()));
  }
}

describe('the ejection rule with replica clocks two minutes apart', () => {
  it('an ejection 10 s before the step, on the replica whose clock is ahead, is not the step’s: the error gate holds, saying why', async () => {
    // By its clock the ejection began at 220 s, after the leader's 110 s: wall clocks compared would blame the step.
    expect(await errorGate('ahead', 100_000)).toMatchObject({
      value: 50,
      verdict: 'inconclusive',
      why: expect.stringContaining("thoughts has been out (outlier detection) since 10 s before its replica applied this step's plan"),
    });
  });

  it('an ejection 20 s into the step, on the replica whose clock is behind, is the step’s: the error gate fails', async () => {
    // By its clock the ejection began at 10 s, long before the leader's 110 s: wall clocks compared would hold.
    expect(await errorGate('behind', 130_000)).toMatchObject({ value: 50, verdict: 'fail' });
  });

  it('the other way round: before the step on the replica behind holds, during it on the replica ahead fails', async () => {
    expect(await errorGate('behind', 100_000)).toMatchObject({ verdict: 'inconclusive' });
    expect(await errorGate('ahead', 130_000)).toMatchObject({ verdict: 'fail' });
  });
});

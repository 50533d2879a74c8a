import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ETCD_KEYS } from '../etcd/etcdConnection.ts';
import type { TrafficWindow } from '../observe/trafficWindow.ts';
import type { RecentClientsReport } from '../plan/estimate.ts';
import { findingsReport } from '../shadow/findingsReport.ts';
import type { ShadowFindings } from '../shadow/shadowMirror.ts';
import type { ReplicaLease } from './replicaLease.ts';

/**
 * The newest mismatches a replica shares with the fleet. Each holds three bodies (the
 * replayable request and both answers) of up to 16 KiB: 10 keep the value well under etcd's
 * 1.5 MiB request limit.
 */
const SHARED_MISMATCHES = 10;

export interface PublishedNumbers {
  readonly registry: Registry;
  readonly window: TrafficWindow;
  /** The replica's recent clients (buckets only: never the keys), dealt by the plan it serves. */
  readonly recentClients: () => RecentClientsReport;
  readonly shadowFindings: ShadowFindings;
}

/**
 * Publishes this replica's numbers on its lease, every interval: its counters and histograms
 * (`fleet/metrics/<id>`, prom-client's getMetricsAsJSON, the gateway_* families: what rollout
 * gates and fleet totals are summed from, no Prometheus needed), its recent-traffic window
 * (`fleet/traffic/<id>`: the raw counts, so the fleet's shares and p95 are computed from sums),
 * its recent clients' cohort buckets (`fleet/clients/<id>`: what `gateway shift --dry-run`
 * estimates moved clients from) and its last shadow mismatches (`fleet/shadow/<id>`). A value equal to the one etcd already
 * holds is not written again, so an idle fleet writes nothing.
 */
export class MetricsPublisher {
  private readonly timer: NodeJS.Timeout;
  private publishing: Promise<void> | null = null;

  constructor(
    private readonly lease: ReplicaLease,
    private readonly replicaId: string,
    private readonly numbers: PublishedNumbers,
    intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.publish(), intervalMs);
    this.timer.unref();
  }

  /** Publishes now (also what the timer does); one at a time. */
  publish(): Promise<void> {
    this.publishing ??= this.publishNow()
      .catch((error: Error) => this.logger.warn({ err: error }, 'publishing the fleet numbers failed'))
      .finally(() => (this.publishing = null));
    return this.publishing;
  }

  /** Stops publishing (the lease's revocation removes what was published). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.publishing;
  }

  private async publishNow(): Promise<void> {
    const metrics = (await this.numbers.registry.getMetricsAsJSON()).filter((metric) => metric.name.startsWith('gateway_'));
    await Promise.all([
      this.lease.set(ETCD_KEYS.metrics + this.replicaId, JSON.stringify(metrics)),
      this.lease.set(ETCD_KEYS.traffic + this.replicaId, JSON.stringify(this.numbers.window.counts())),
      this.lease.set(ETCD_KEYS.clients + this.replicaId, JSON.stringify(this.numbers.recentClients())),
      this.lease.set(ETCD_KEYS.shadow + this.replicaId, JSON.stringify(findingsReport(this.numbers.shadowFindings, { limit: SHARED_MISMATCHES }))),
    ]);
  }
}

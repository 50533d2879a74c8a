import type { Namespace } from 'etcd3';
import type { MetricValue } from 'prom-client';
import type { RouteTable } from '../config/routeTable.ts';
import { summariseTraffic, type TrafficSnapshot } from '../observe/trafficWindow.ts';
import { mergeRecentClients, type FleetClients } from '../plan/estimate.ts';
import { mergeFindings, type FindingsQuery, type FindingsReport } from '../shadow/findingsReport.ts';
import { readFleet, storedPlanVersion, type ReplicaMetrics } from './fleetReader.ts';
import { fleetStatus, type FleetStatus } from './fleetStatus.ts';

export interface FleetNumbers {
  /** How many replicas the fleet has (a gateway with several workers is one: its workers' numbers are summed into it). */
  readonly replicas: number;
  readonly traffic: TrafficSnapshot;
  /** gateway_shadow_comparisons_total's samples of every replica (to be summed per route and result). */
  readonly shadowComparisons: readonly MetricValue<string>[];
}

/**
 * What the admin port of any replica shows of the whole fleet, from what every live replica
 * publishes in etcd: the replicas against the store's version, the recent traffic (summed
 * counts), shadow comparisons and mismatches — the same answer whichever replica is asked.
 */
export class FleetView {
  constructor(private readonly keys: Namespace) {}

  async status(): Promise<FleetStatus> {
    const [fleet, version] = await Promise.all([readFleet(this.keys, []), storedPlanVersion(this.keys)]);
    return fleetStatus(fleet.replicas, version);
  }

  async numbers(): Promise<FleetNumbers> {
    const fleet = await readFleet(this.keys, ['metrics', 'traffic']);
    const windows = [...fleet.traffic.values()].filter((window) => window !== null);
    return {
      replicas: fleet.replicas.length,
      traffic: summariseTraffic(windows),
      shadowComparisons: [...fleet.metrics.values()].flatMap((metrics) => samplesOf(metrics, 'gateway_shadow_comparisons_total')),
    };
  }

  /**
   * The recent clients of every live replica, put together to estimate a change of `before`
   * (shift --dry-run, the dashboard's preview). etcd not answering is said in the answer, not
   * thrown: the change it estimates may be written already.
   */
  async recentClients(before: RouteTable): Promise<FleetClients> {
    try {
      const fleet = await readFleet(this.keys, ['clients']);
      return mergeRecentClients(
        [...fleet.clients.values()].filter((report) => report !== null),
        before,
      );
    } catch (error) {
      return { recent: { unavailable: `the fleet's recent clients could not be read from etcd (${(error as Error).message})` }, replicas: 0 };
    }
  }

  async findings(query: FindingsQuery): Promise<FindingsReport> {
    const fleet = await readFleet(this.keys, ['shadow']);
    const reports = new Map([...fleet.shadow].filter((entry): entry is [string, FindingsReport] => entry[1] !== null));
    return mergeFindings(reports, query);
  }
}

function samplesOf(metrics: ReplicaMetrics | null, name: string): readonly MetricValue<string>[] {
  return metrics?.find((metric) => metric.name === name)?.values ?? [];
}

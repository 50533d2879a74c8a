import type { Namespace } from 'etcd3';
import type { MetricObjectWithValues, MetricValueWithName } from 'prom-client';
import { ETCD_KEYS } from '../etcd/etcdConnection.ts';
import type { WindowCounts } from '../observe/trafficWindow.ts';
import type { RecentClientsReport } from '../plan/estimate.ts';
import type { FindingsReport } from '../shadow/findingsReport.ts';
import { versionOf } from '../plan/auditedPlanStore.ts';
import { parseReplicaRecord, type ReplicaRecord } from './replicaRecord.ts';

/** One replica's published metrics, as prom-client's getMetricsAsJSON gives them (what the rollout's LocalGateReader sums). */
export type ReplicaMetrics = readonly MetricObjectWithValues<MetricValueWithName<string>>[];

/** Everything the live replicas published, read at one etcd revision; keyed by replica id. */
export interface FleetSnapshot {
  /** Registered replicas, by id. */
  readonly replicas: readonly ReplicaRecord[];
  /** Every replica that registered or published; null: nothing (readable) published yet, or not read. */
  readonly metrics: ReadonlyMap<string, ReplicaMetrics | null>;
  readonly traffic: ReadonlyMap<string, WindowCounts | null>;
  readonly clients: ReadonlyMap<string, RecentClientsReport | null>;
  readonly shadow: ReadonlyMap<string, FindingsReport | null>;
}

/** Bound on one read of the fleet: with etcd away the caller hears so rather than waiting for ever. */
const READ_DEADLINE_MS = 3_000;

type Published = 'metrics' | 'traffic' | 'clients' | 'shadow';

/**
 * The replicas whose lease is alive and what each published (only the `kinds` asked for: a
 * rollout gate needs the metrics, not the mismatches' bodies).
 */
export async function readFleet(keys: Namespace, kinds: readonly Published[] = ['metrics', 'traffic', 'clients', 'shadow']): Promise<FleetSnapshot> {
  const read = (prefix: string) =>
    keys
      .getAll()
      .prefix(prefix)
      .options({ deadline: Date.now() + READ_DEADLINE_MS })
      .strings()
      .then((values) => new Map(Object.entries(values).map(([key, text]) => [key.slice(prefix.length), text])));
  const [registered, ...published] = await Promise.all([read(ETCD_KEYS.replicas), ...kinds.map((kind) => read(ETCD_KEYS[kind]))]);
  const texts = new Map(kinds.map((kind, i) => [kind, published[i]!]));
  const ids = [...new Set([...registered.keys(), ...published.flatMap((values) => [...values.keys()])])].sort();
  const byId = <T>(kind: Published) => new Map(ids.map((id) => [id, parsed<T>(texts.get(kind)?.get(id))]));
  return {
    replicas: [...registered.values()]
      .map(parseReplicaRecord)
      .filter((record) => record !== null)
      .sort((a, b) => a.id.localeCompare(b.id)),
    metrics: byId<ReplicaMetrics>('metrics'),
    traffic: byId<WindowCounts>('traffic'),
    clients: byId<RecentClientsReport>('clients'),
    shadow: byId<FindingsReport>('shadow'),
  };
}

/** Every live replica's registration, sorted by id (what a rollout step waits on: all serving the plan it wrote). */
export async function listReplicas(keys: Namespace): Promise<readonly ReplicaRecord[]> {
  return (await readFleet(keys, [])).replicas;
}

/**
 * The live replicas' published metrics keyed by replica id — the shape the rollout's
 * LocalGateReader consumes (MetricsByProcess): a replica that died is gone from the map
 * within its lease TTL; one registered that has not published yet maps to null.
 */
export function fleetMetrics(keys: Namespace): () => Promise<ReadonlyMap<string, ReplicaMetrics | null>> {
  return async () => (await readFleet(keys, ['metrics'])).metrics;
}

function parsed<T>(text: string | undefined): T | null {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** The version of the plan the store holds (sha256 of its text, as every replica computes it); null: none pushed yet. */
export async function storedPlanVersion(keys: Namespace): Promise<string | null> {
  const text = await keys
    .get(ETCD_KEYS.plan)
    .options({ deadline: Date.now() + READ_DEADLINE_MS })
    .string();
  return text === null ? null : versionOf(text);
}

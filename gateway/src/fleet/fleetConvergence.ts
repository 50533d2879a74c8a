import type { Namespace } from 'etcd3';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFleet, storedPlanVersion } from './fleetReader.ts';
import { awaited, fleetStatus, type ReplicaStatus } from './fleetStatus.ts';

/**
 * How often the registrations are read while waiting: a replica applies a plan and rewrites
 * its record within milliseconds of the write, and a read of a few small keys costs etcd
 * next to nothing (at most 100 reads in the default 5 s wait).
 */
const POLL_MS = 50;

/** Where the fleet stands against one plan version once the wait is over. */
export interface Convergence {
  /** The live replicas compared with the version waited for: in sync, behind, or rejected (with the validation message). */
  readonly replicas: readonly ReplicaStatus[];
  /** Replicas registered at some point of the wait and gone since (stopped, or their lease expired: frozen or cut off from etcd). */
  readonly left: readonly string[];
  /** The version the store holds at the end (another write may have followed the one waited for). */
  readonly storeVersion: string | null;
}

/**
 * Waits until no live replica is behind `version` (each serves it, or refused it: a rejection
 * is final for that version; a draining one is not waited for) or `timeoutMs` has passed, from the records the replicas keep
 * under `fleet/replicas/` — what `gateway fleet` reads. With no replica registered it answers
 * at once.
 */
export async function awaitFleetVersion(keys: Namespace, version: string, timeoutMs: number): Promise<Convergence> {
  const deadline = Date.now() + timeoutMs;
  const seen = new Set<string>();
  for (;;) {
    const { replicas } = await readFleet(keys, []);
    for (const replica of replicas) seen.add(replica.id);
    const status = fleetStatus(replicas, version).replicas;
    const remaining = deadline - Date.now();
    if (status.every((replica) => replica.state !== 'behind' || !awaited(replica)) || remaining <= 0) {
      const live = new Set(status.map((replica) => replica.id));
      return { replicas: status, left: [...seen].filter((id) => !live.has(id)).sort(), storeVersion: await storedPlanVersion(keys) };
    }
    await sleep(Math.min(POLL_MS, remaining));
  }
}

import type { ReplicaRecord } from './replicaRecord.ts';

/** A replica against the store: serving the version it holds, an older one, or refusing it. */
export type ReplicaState = 'in sync' | 'behind' | 'rejected';

export interface ReplicaStatus {
  readonly id: string;
  readonly adminUrl: string | null;
  readonly publicUrl: string;
  readonly pid: number;
  readonly hostname: string;
  /** The version it serves (full sha256; shown as its first 12 characters). */
  readonly version: string;
  readonly state: ReplicaState;
  /** `rejected`: the validation message of the store's version on this replica. */
  readonly message: string | null;
  /** ISO: since when it serves its version (`rejected`: when it refused the store's). */
  readonly since: string;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly storeUp: boolean;
  /** Shutting down (SIGTERM/SIGINT) but still serving until its drain ends: nothing waits for it (see awaited). */
  readonly draining: boolean;
}

export interface FleetStatus {
  /** The version the store holds (null: no plan pushed yet). */
  readonly storeVersion: string | null;
  readonly replicas: readonly ReplicaStatus[];
}

/** Each live replica compared with the store's version, as `istioctl proxy-status` compares Envoys with istiod. */
export function fleetStatus(replicas: readonly ReplicaRecord[], storeVersion: string | null, now = Date.now()): FleetStatus {
  return {
    storeVersion,
    replicas: replicas.map((replica) => {
      const rejected = replica.rejected !== null && replica.rejected.version === storeVersion ? replica.rejected : null;
      const state: ReplicaState = rejected !== null ? 'rejected' : replica.plan.version === storeVersion ? 'in sync' : 'behind';
      return {
        id: replica.id,
        adminUrl: replica.adminUrl,
        publicUrl: replica.publicUrl,
        pid: replica.pid,
        hostname: replica.hostname,
        version: replica.plan.version,
        state,
        message: rejected?.message ?? null,
        since: rejected?.at ?? replica.plan.since,
        startedAt: replica.startedAt,
        uptimeSeconds: Math.max(0, Math.round((now - Date.parse(replica.startedAt)) / 1000)),
        storeUp: replica.storeUp,
        draining: replica.draining === true,
      };
    }),
  };
}

/**
 * Whether a plan change (a rollout step, a CLI change waiting for the fleet) waits for this
 * replica to serve it: a draining one is about to leave, and waiting for it would hold the
 * fleet for its whole drain delay. It still applies the plan while it drains.
 */
export function awaited(replica: Pick<ReplicaRecord, 'draining'>): boolean {
  return replica.draining !== true;
}

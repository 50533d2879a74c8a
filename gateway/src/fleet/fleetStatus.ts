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
      };
    }),
  };
}

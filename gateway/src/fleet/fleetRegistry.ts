import os from 'node:os';
import { ETCD_KEYS } from '../etcd/etcdConnection.ts';
import type { ReplicaLease } from './replicaLease.ts';
import type { ReplicaRecord } from './replicaRecord.ts';

export interface ReplicaIdentity {
  readonly id: string;
  readonly adminUrl: string | null;
  readonly publicUrl: string;
}

/**
 * This replica's entry in the fleet (`fleet/replicas/<id>`, on the replica's lease): written
 * at start, again whenever the plan it serves changes, a plan is rejected or the store
 * connection goes up or down, or it starts draining, and gone when the replica stops (revoked)
 * or dies (expired).
 */
export class FleetRegistry {
  private record: ReplicaRecord;

  constructor(
    private readonly lease: ReplicaLease,
    identity: ReplicaIdentity,
    servedVersion: string,
  ) {
    const now = new Date().toISOString();
    this.record = {
      ...identity,
      hostname: os.hostname(),
      pid: process.pid,
      startedAt: now,
      plan: { version: servedVersion, since: now },
      rejected: null,
      storeUp: true,
      draining: false,
    };
  }

  get id(): string {
    return this.record.id;
  }

  /** Registers (resolves once etcd has the record, or after the first failed try: it is retried every second). */
  register(): Promise<void> {
    return this.write();
  }

  planServed(version: string): Promise<void> {
    if (version === this.record.plan.version) return Promise.resolve();
    return this.update({ plan: { version, since: new Date().toISOString() } });
  }

  planRejected(version: string, message: string): Promise<void> {
    if (this.record.rejected?.version === version && this.record.rejected.message === message) return Promise.resolve();
    return this.update({ rejected: { version, message, at: new Date().toISOString() } });
  }

  storeUp(up: boolean): Promise<void> {
    return up === this.record.storeUp ? Promise.resolve() : this.update({ storeUp: up });
  }

  /** It is shutting down: the fleet's plan changes and rollout steps stop waiting for it (it keeps its record until it leaves). */
  drain(): Promise<void> {
    return this.record.draining ? Promise.resolve() : this.update({ draining: true });
  }

  private update(change: Partial<ReplicaRecord>): Promise<void> {
    this.record = { ...this.record, ...change };
    return this.write();
  }

  private write(): Promise<void> {
    return this.lease.set(ETCD_KEYS.replicas + this.record.id, JSON.stringify(this.record));
  }
}

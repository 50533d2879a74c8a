import type { Namespace } from 'etcd3';
import type { Logger } from 'pino';
import type { FleetSettings } from './fleetSettings.ts';
import { FleetRegistry } from './fleetRegistry.ts';
import { MetricsPublisher, type PublishedNumbers } from './metricsPublisher.ts';
import { ReplicaLease } from './replicaLease.ts';

export interface FleetMember {
  /** Its registration; null when it has none of its own (a cluster worker). */
  readonly registry: FleetRegistry | null;
  /** Publishes the numbers now (the timer does every interval). */
  publish(): Promise<void>;
  /** Leaves the fleet: stops publishing and revokes the lease, so the replica is gone from it at once. */
  close(): Promise<void>;
}

/** What a replica's registration starts with. */
export interface Registration {
  /** The admin listener's URL (advertised unless GATEWAY_ADVERTISE_ADMIN_URL says otherwise); null: no admin port. */
  readonly adminUrl: string | null;
  readonly publicUrl: string;
  /** The version of the plan the replica serves as it joins. */
  readonly servedVersion: string;
}

export interface JoinOptions {
  /** The fleet's namespace (connectEtcd().keys). */
  readonly keys: Namespace;
  readonly settings: FleetSettings;
  /** Its entry in `gateway fleet`; null: none (a cluster worker, whose primary registers the whole gateway once). */
  readonly registration: Registration | null;
  /** What it publishes for the fleet's numbers; null: nothing (a cluster primary, whose workers publish their own). */
  readonly numbers: PublishedNumbers | null;
  readonly logger: Logger;
}

/**
 * Registers this replica and/or starts publishing its numbers, both on one lease. Resolves
 * once the first write was tried: a replica starts serving even when etcd is away (its cached
 * plan), and joins the fleet as soon as etcd answers.
 */
export async function joinFleet(options: JoinOptions): Promise<FleetMember> {
  const { settings, logger, registration, numbers } = options;
  const lease = new ReplicaLease(options.keys, settings.ttlSeconds, logger);
  const registry = registration
    ? new FleetRegistry(
        lease,
        { id: settings.replicaId, adminUrl: settings.advertiseAdminUrl ?? registration.adminUrl, publicUrl: registration.publicUrl },
        registration.servedVersion,
      )
    : null;
  await registry?.register();
  const publisher = numbers ? new MetricsPublisher(lease, settings.replicaId, numbers, settings.publishIntervalMs, logger) : null;
  await publisher?.publish();
  logger.info(
    { replica: settings.replicaId, ttlSeconds: settings.ttlSeconds, registered: registry !== null, publishing: publisher !== null },
    `joined the fleet as ${settings.replicaId}`,
  );
  return {
    registry,
    async publish() {
      await publisher?.publish();
    },
    async close() {
      await publisher?.close();
      await lease.close();
    },
  };
}

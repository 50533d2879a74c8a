import type { Namespace } from 'etcd3';
import type { Logger } from 'pino';
import type { FleetSettings } from './fleetSettings.ts';
import { FleetRegistry } from './fleetRegistry.ts';
import { MetricsPublisher, type PublishedNumbers } from './metricsPublisher.ts';
import { ReplicaLease } from './replicaLease.ts';

export interface FleetMember {
  readonly registry: FleetRegistry;
  /** Publishes the numbers now (the timer does every interval). */
  publish(): Promise<void>;
  /** Leaves the fleet: stops publishing and revokes the lease, so the replica is gone from it at once. */
  close(): Promise<void>;
}

export interface JoinOptions {
  /** The fleet's namespace (connectEtcd().keys). */
  readonly keys: Namespace;
  readonly settings: FleetSettings;
  /** The admin listener's URL (advertised unless GATEWAY_ADVERTISE_ADMIN_URL says otherwise); null: no admin port. */
  readonly adminUrl: string | null;
  readonly publicUrl: string;
  /** The version of the plan the replica serves as it joins. */
  readonly servedVersion: string;
  readonly numbers: PublishedNumbers;
  readonly logger: Logger;
}

/**
 * Registers this replica and starts publishing its numbers, both on one lease. Resolves once
 * the first write was tried: a replica starts serving even when etcd is away (its cached
 * plan), and joins the fleet as soon as etcd answers.
 */
export async function joinFleet(options: JoinOptions): Promise<FleetMember> {
  const { settings, logger } = options;
  const lease = new ReplicaLease(options.keys, settings.ttlSeconds, logger);
  const registry = new FleetRegistry(
    lease,
    { id: settings.replicaId, adminUrl: settings.advertiseAdminUrl ?? options.adminUrl, publicUrl: options.publicUrl },
    options.servedVersion,
  );
  await registry.register();
  const publisher = new MetricsPublisher(lease, settings.replicaId, options.numbers, settings.publishIntervalMs, logger);
  await publisher.publish();
  logger.info({ replica: settings.replicaId, ttlSeconds: settings.ttlSeconds }, `joined the fleet as ${settings.replicaId}`);
  return {
    registry,
    publish: () => publisher.publish(),
    async close() {
      await publisher.close();
      await lease.close();
    },
  };
}

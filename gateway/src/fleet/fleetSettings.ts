import os from 'node:os';
import { envWholeNumber } from '@mythoughts/runtime/env';
import { ConfigError } from '@mythoughts/runtime/errors';

/** How this replica shows itself to the fleet (the fleet/ keys of the etcd store). */
export interface FleetSettings {
  /** GATEWAY_REPLICA_ID: unique in the fleet; default `<hostname>-<pid>` (a restarted process is a new replica). */
  readonly replicaId: string;
  /** GATEWAY_ADVERTISE_ADMIN_URL: the admin URL the others reach this replica on; null: the admin listener's own URL. */
  readonly advertiseAdminUrl: string | null;
  /** GATEWAY_FLEET_TTL_SECONDS: a replica that stops renewing its lease drops out of the fleet after this long. */
  readonly ttlSeconds: number;
  /** GATEWAY_FLEET_PUBLISH_MS: how often the replica publishes its counters and recent traffic. */
  readonly publishIntervalMs: number;
}

export const FLEET_ENVIRONMENT_HELP = `  GATEWAY_REPLICA_ID           this replica's name in the fleet (etcd store; default <hostname>-<pid>)
  GATEWAY_ADVERTISE_ADMIN_URL  the admin URL other replicas and operators reach this one on (default: the admin listener's URL)
  GATEWAY_FLEET_TTL_SECONDS    lease of the replica's registration: a dead replica drops out of 'gateway fleet' after it (default 5)
  GATEWAY_FLEET_PUBLISH_MS     how often the replica publishes its counters and recent traffic to the fleet (default 1000)`;

const REPLICA_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function fleetSettingsFromEnv(env: NodeJS.ProcessEnv): FleetSettings {
  const replicaId = env.GATEWAY_REPLICA_ID?.trim() || `${os.hostname()}-${process.pid}`;
  if (!REPLICA_ID.test(replicaId))
    throw new ConfigError(`GATEWAY_REPLICA_ID=${replicaId} must be 1-128 letters, digits, '.', '_', ':' or '-' (it is part of an etcd key)`);
  const advertised = env.GATEWAY_ADVERTISE_ADMIN_URL?.trim() || null;
  if (advertised !== null && !/^https?:\/\/[^/\s]+\/?$/.test(advertised))
    throw new ConfigError(`GATEWAY_ADVERTISE_ADMIN_URL=${advertised} is not an http(s)://host:port URL`);
  return {
    replicaId,
    advertiseAdminUrl: advertised === null ? null : advertised.replace(/\/$/, ''),
    ttlSeconds: envWholeNumber(env, 'GATEWAY_FLEET_TTL_SECONDS', 5, 1, 300),
    publishIntervalMs: envWholeNumber(env, 'GATEWAY_FLEET_PUBLISH_MS', 1000, 100, 60_000),
  };
}

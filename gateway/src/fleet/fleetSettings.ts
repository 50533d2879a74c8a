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

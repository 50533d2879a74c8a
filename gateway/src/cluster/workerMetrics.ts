import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * In a cluster worker: answers the primary's metric requests with this worker's registry.
 * prom-client's AggregatorRegistry must be created in the worker too — its constructor is
 * what installs the listener; setRegistries says which registry to send (the gateway's own,
 * not prom-client's global one).
 */
export function serveMetricsToPrimary(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry();
}

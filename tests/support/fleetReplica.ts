import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { spawnGateway } from './gatewayProcess.ts';
import { freePort } from './ports.ts';
import { waitHealthy } from './processes.ts';

/** One gateway replica of a fleet on the etcd store, as a process of its own. */
export interface FleetReplica {
  /** Its GATEWAY_REPLICA_ID (what `gateway fleet` and the CLI's per-replica lines name). */
  readonly id: string;
  readonly child: ChildProcess;
  readonly url: string;
  readonly adminUrl: string;
}

/**
 * `gateway serve` as replica `id` of the fleet on `storeUrl` (etcd://…), on free loopback
 * ports, its plan cache in `dir`, no access log; `env` adds to or overrides that. Resolves
 * once the replica is ready (it serves the store's plan and has registered).
 */
export async function startFleetReplica(storeUrl: string, id: string, dir: string, env: NodeJS.ProcessEnv = {}): Promise<FleetReplica> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = spawnGateway(['serve'], path.join(dir, 'unused-routes.yaml'), {
    GATEWAY_PLAN_STORE: storeUrl,
    GATEWAY_REPLICA_ID: id,
    GATEWAY_PLAN_CACHE: path.join(dir, `${id}-plan-cache.yaml`),
    GATEWAY_PORT: String(port),
    GATEWAY_ADMIN_PORT: String(adminPort),
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_ACCESS_LOG: 'off',
    ...env,
  });
  const replica = { id, child, url: `http://127.0.0.1:${port}`, adminUrl: `http://127.0.0.1:${adminPort}` };
  await waitHealthy(`${replica.adminUrl}/readyz`, child);
  return replica;
}

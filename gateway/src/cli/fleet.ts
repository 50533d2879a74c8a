import { ConfigError } from '@mythoughts/runtime/errors';
import { connectEtcd } from '../etcd/etcdConnection.ts';
import { ETCD_ENVIRONMENT_HELP, etcdSettingsFromEnv } from '../etcd/etcdSettings.ts';
import { FleetView } from '../fleet/fleetView.ts';
import type { FleetStatus } from '../fleet/fleetStatus.ts';
import { parseCommandArgs, type Command } from './command.ts';
import { NO_REPLICA, replicaTable } from './fleetTable.ts';

const HELP = `Usage: gateway fleet [--json]

Every live gateway replica of the fleet on the etcd store, one row each, compared with the
plan version the store holds (as 'istioctl proxy-status' does for Envoys):

  REPLICA   its id (GATEWAY_REPLICA_ID, default <hostname>-<pid>)
  ADMIN     its admin URL (GATEWAY_ADVERTISE_ADMIN_URL, default its admin listener)
  VERSION   the plan version it serves (first 12 characters of the sha256 of the plan text)
  STATE     in sync   serves the version the store holds
            behind    serves an older one (it has not picked the new one up yet)
            rejected  refused the store's version (the validation message follows)
            then ', draining' for a replica shutting down (SIGTERM): it serves, and follows
            the store, until its drain ends; plan changes and rollout steps do not wait for it
  SINCE     when it began serving its version (rejected: when it refused the store's)
  UPTIME    how long the replica has run

Each replica registers under a key bound to its own lease: one that dies drops out within
GATEWAY_FLEET_TTL_SECONDS (default 5), one that stops gracefully at once. Reads the store
directly: no running gateway is needed.

Options:
  --json    the replicas and the store's version as JSON

Environment:
${ETCD_ENVIRONMENT_HELP}`;

export const fleetCommand: Command = {
  name: 'fleet',
  summary: "the fleet's replicas on the etcd store: in sync / behind / rejected",
  help: HELP,
  async run(args) {
    const { values } = parseCommandArgs(args, HELP, { json: { type: 'boolean' } });
    if (values.help) return 0;
    const settings = etcdSettingsFromEnv(process.env);
    if (settings === null) {
      throw new ConfigError(
        'a fleet needs the etcd store: set GATEWAY_PLAN_STORE=etcd://HOST:PORT/PREFIX (the one the replicas use); a gateway on a routes file runs alone',
      );
    }
    const connection = connectEtcd(settings);
    try {
      const status = await new FleetView(connection.keys).status().catch((error: Error) => {
        throw new ConfigError(`the etcd store ${settings.display} (GATEWAY_PLAN_STORE) did not answer: ${error.message}`);
      });
      const text = values.json ? `${JSON.stringify({ store: settings.display, ...status }, null, 2)}\n` : `${describe(settings.display, status).join('\n')}\n`;
      process.stdout.write(text);
      return 0;
    } finally {
      connection.close();
    }
  },
};

function describe(store: string, status: FleetStatus): string[] {
  const holds = status.storeVersion === null ? 'holds no plan yet (gateway plan push FILE)' : `holds version ${status.storeVersion.slice(0, 12)}`;
  const count = status.replicas.length === 1 ? '1 replica' : `${status.replicas.length} replicas`;
  const lines = [`store ${store} ${holds}; ${count}`];
  if (status.replicas.length === 0) return [...lines, NO_REPLICA];
  return [...lines, '', ...replicaTable(status.replicas)];
}

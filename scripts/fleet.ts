// `npm run fleet [-- --replicas N]`: the whole system with N gateway replicas on one etcd
// store, in one command. Starts a local etcd (data under data/fleet-etcd), pushes routes.yaml
// into it when it holds no plan yet, then the back ends and the replicas (each with its own
// ports, replica id and plan cache), all supervised as `npm start` does (system.ts).
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, runMain } from '@mythoughts/runtime/errors';
import { connectEtcd } from '../gateway/src/etcd/etcdConnection.ts';
import { etcdSettingsFromEnv } from '../gateway/src/etcd/etcdSettings.ts';
import { routesFileFrom } from '../gateway/src/env.ts';
import { openPlanStore } from '../gateway/src/plan/openPlanStore.ts';
import { backendSpecs, gatewaySpec, port, prepareSystem, printUrls, runSupervised, type ProcessSpec } from './system.ts';

const HELP = `Usage: npm run fleet [-- --replicas N]

Runs the whole system as a fleet: a local etcd v3 (the plan store), the back ends, and N
gateway replicas (default 3) on GATEWAY_PLAN_STORE=etcd://127.0.0.1:<FLEET_ETCD_PORT>/mythoughts.
routes.yaml (GATEWAY_ROUTES) is pushed into the store when it holds no plan yet; after that
the store is the plan: change it with gateway shift / panic / plan push or any replica's
dashboard, and every replica follows. Ctrl-C stops everything (etcd last).

Ports: replica i (1..N) serves the public port GATEWAY_PORT+i-1 (8080, 8081, ...) and the
admin port GATEWAY_ADMIN_PORT+i-1 (9901, 9902, ...); etcd listens on FLEET_ETCD_PORT (2379,
peers on the next port), its data in $DATA_DIR/fleet-etcd. The back ends as npm start runs them.

Options:
  --replicas N   gateway replicas, 1 to 9 (default 3)
  -h, --help     this text

See the fleet: GATEWAY_PLAN_STORE=etcd://127.0.0.1:2379/mythoughts npx gateway fleet`;

const ETCD = process.env.ETCD_BIN ?? 'etcd';
const PREFIX = 'mythoughts';

function replicasFrom(args: string[]): number | null {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { replicas: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n\n${HELP}`);
  }
  if (values.help) return null;
  const replicas = Number(values.replicas ?? 3);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 9) throw new ConfigError(`--replicas ${values.replicas} must be a whole number from 1 to 9`);
  return replicas;
}

function etcdSpec(dataDir: string, clientPort: number): ProcessSpec {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${clientPort + 1}`;
  return {
    name: 'etcd',
    command: [
      ETCD,
      '--name=fleet',
      `--data-dir=${path.join(dataDir, 'fleet-etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=fleet=${peer}`,
      // Replicas publish their counters every second: keep an hour of history, not all of it.
      '--auto-compaction-mode=periodic',
      '--auto-compaction-retention=1h',
      '--logger=zap',
      '--log-level=warn',
    ],
    ownGroup: true,
    healthUrl: `${client}/health`,
    publicUrl: `${client}/`,
    what: `etcd v3, the plan store (data in ${path.join(dataDir, 'fleet-etcd')})`,
  };
}

/** Pushes the routes file when the store holds no plan yet (the one write path: validated, audited). */
async function pushIfEmpty(storeUrl: string, routesFile: string): Promise<string> {
  const etcd = connectEtcd(etcdSettingsFromEnv({ GATEWAY_PLAN_STORE: storeUrl })!);
  const store = openPlanStore({ file: routesFile }, etcd);
  try {
    const held = await store.read();
    if (held.ok) return `the store holds plan ${held.version.slice(0, 12)} already (routes.yaml not pushed)`;
    const pushed = await store.push(readFileSync(routesFile, 'utf8'), routesFile, {
      who: process.env.USER || 'npm run fleet',
      via: 'cli',
      reason: 'npm run fleet: first plan',
      dryRun: false,
    });
    if (!pushed.ok) throw new ConfigError(`pushing ${routesFile} into ${storeUrl} failed: ${pushed.message}`);
    return `pushed ${routesFile} into the store (version ${pushed.version.slice(0, 12)})`;
  } finally {
    store.close();
    etcd.close();
  }
}

async function main() {
  const replicas = replicasFrom(process.argv.slice(2));
  if (replicas === null) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const system = await prepareSystem();
  const etcdPort = Number(port('FLEET_ETCD_PORT', 2379));
  const storeUrl = `etcd://127.0.0.1:${etcdPort}/${PREFIX}`;
  const routesFile = routesFileFrom(undefined);
  const gateways = Array.from({ length: replicas }, (_, i) => {
    const id = `gateway-${i + 1}`;
    mkdirSync(path.join(system.dataDir, 'fleet', id), { recursive: true });
    return gatewaySpec(id, String(Number(port('GATEWAY_PORT', 8080)) + i), String(Number(port('GATEWAY_ADMIN_PORT', 9901)) + i), {
      GATEWAY_PLAN_STORE: storeUrl,
      GATEWAY_REPLICA_ID: id,
      GATEWAY_PLAN_CACHE: path.join(system.dataDir, 'fleet', id, 'plan-cache.yaml'),
      GATEWAY_ACCESS_LOG: process.env.GATEWAY_ACCESS_LOG || path.join(system.dataDir, 'fleet', id, 'access.log'),
    });
  });
  const etcd = etcdSpec(system.dataDir, etcdPort);
  let pushed = '';
  const up = await runSupervised('npm run fleet', [[etcd], [...backendSpecs(), ...gateways]], system.childEnv, async () => {
    pushed = await pushIfEmpty(storeUrl, routesFile);
  });
  if (!up) return;
  process.stdout.write(`\nMyThoughts is up as a fleet of ${replicas} gateway ${replicas === 1 ? 'replica' : 'replicas'} (${system.database}; ${pushed}):\n`);
  printUrls([etcd, ...backendSpecs(), ...[...gateways].reverse()]);
  process.stdout.write(`The replicas: GATEWAY_PLAN_STORE=${storeUrl} npx gateway fleet\n`);
  process.stdout.write('Demo users: bruce / password, stephen / password. Ctrl-C stops everything.\n\n');
}

runMain('npm run fleet', main);

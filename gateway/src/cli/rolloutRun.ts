import { Registry } from 'prom-client';
import { ConfigError } from '@mythoughts/runtime/errors';
import { urlOverridesFromEnv } from '../config/validateBackends.ts';
import { startControlPlane } from '../controlPlane.ts';
import { optionsFromEnv, port } from '../env.ts';
import { createGatewayLogger } from '../observe/logger.ts';
import { connectEtcd } from '../etcd/etcdConnection.ts';
import { fleetSettingsFromEnv } from '../fleet/fleetSettings.ts';
import { checkStoredPlan, openPlanStore } from '../plan/openPlanStore.ts';
import { untilStopSignal } from '../stopSignal.ts';
import { parseCommandArgs } from './command.ts';

const RUN_HELP = `Usage: gateway rollout run

Runs the rollout controller as a process of its own, for several gateway replicas.
On a routes file: start every replica with GATEWAY_ROLLOUT=off and exactly one 'gateway
rollout run' beside them. It reads the gates from Prometheus (the sum over every replica it
scrapes), writes each step and rollback to the routes file exactly like 'gateway shift'
(validated, atomic, audited; the replicas pick the file up by their file watch) and keeps its
progress beside the file.
On the etcd store (GATEWAY_PLAN_STORE) it is one more candidate in the fleet's rollout
election, beside the replicas (which need no GATEWAY_ROLLOUT=off there): while it leads it
steps on the counters the replicas publish in etcd (or Prometheus, if set), writing to the
store with its leadership checked; when it stops, another candidate carries on.
Either way it serves /api/rollout (what 'gateway rollout status' and the commands use),
/metrics (the gateway_rollout_* series) and the dashboard's Rollouts panel on its own admin port.

Environment:
  GATEWAY_PROMETHEUS_URL       the Prometheus that scrapes every replica, e.g. http://prometheus:9090 (required on a routes file)
  GATEWAY_PLAN_STORE           etcd://HOST:PORT/PREFIX: the fleet's store (its election, progress and published counters)
  GATEWAY_ROUTES               routes file (default: <repo>/routes.yaml); the replicas must run the same file
  GATEWAY_ROLLOUT_ADMIN_PORT   its admin port (default 9902)
  GATEWAY_ADMIN_HOST           admin interface (default 127.0.0.1; another one needs GATEWAY_ADMIN_TOKEN)
  GATEWAY_ADMIN_TOKEN          if set, /metrics and /api need Authorization: Bearer <token>
  GATEWAY_AUDIT_LOG            audit log (default: routes.audit.jsonl beside the routes file)
  GATEWAY_ROLLOUT_STATE        progress file (default: routes.rollout.json beside the routes file)
  GATEWAY_BACKEND_<NAME>_URL   as for the gateway, so the file is validated the same way`;

/** `gateway rollout run`: the controller alone, until SIGTERM/SIGINT. */
export async function runRolloutController(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, RUN_HELP, {});
  if (values.help) return 0;
  const options = optionsFromEnv(process.env);
  if (options.rollout === false) throw new ConfigError('GATEWAY_ROLLOUT=off: this process would run nothing; unset it for gateway rollout run');
  if (!options.rollout?.prometheusUrl && !options.planStore)
    throw new ConfigError(
      'gateway rollout run reads the gates from Prometheus (GATEWAY_PROMETHEUS_URL, e.g. http://127.0.0.1:9090), or on the etcd store (GATEWAY_PLAN_STORE) from what the replicas publish there',
    );
  const logger = createGatewayLogger();
  const etcd = options.planStore ? connectEtcd(options.planStore) : null;
  const store = openPlanStore({ file: options.routesFile, auditFile: options.auditLogFile, urlOverride: urlOverridesFromEnv(process.env) }, etcd);
  // With etcd away it starts anyway and campaigns once etcd answers (the rollout holds meanwhile).
  await checkStoredPlan(store).catch((error: unknown) => {
    etcd?.close();
    throw error;
  });
  const registry = new Registry();
  let stopping = false;
  const control = await startControlPlane(
    {
      ...options,
      adminPort: port(process.env, 'GATEWAY_ROLLOUT_ADMIN_PORT', 9902),
      adminPortVariable: 'GATEWAY_ROLLOUT_ADMIN_PORT',
      rollout: options.rollout ?? {},
    },
    {
      store,
      logger,
      rolloutRegistry: registry,
      metrics: registry,
      // No traffic of its own: the gates come from Prometheus, or on the etcd store from the replicas' published counters.
      api: {
        noOpsApi:
          "this admin port is gateway rollout run's: it serves /api/rollout, /metrics and the probes; the plan and traffic API are on the gateways' admin ports",
      },
      notReady: () => (stopping ? 'shutting down' : null),
      onPlanChange: undefined,
      // On the etcd store it is one more candidate in the fleet's rollout election.
      fleet: etcd ? { etcd, settings: options.fleet ?? fleetSettingsFromEnv({}) } : null,
    },
  );
  logger.info(
    { adminUrl: control.adminUrl, routes: options.routesFile },
    `gateway rollout run: controller on ${options.routesFile}, admin ${control.adminUrl}`,
  );
  const signal = await untilStopSignal();
  stopping = true;
  logger.info({ signal }, 'gateway rollout run: stopping');
  await control.close();
  etcd?.close();
  logger.flush();
  return 0;
}

import { createServer } from 'node:http';
import { Registry } from 'prom-client';
import { ConfigError } from '@mythoughts/runtime/errors';
import { AdminHostPolicy, checkAdminExposure } from '../admin/adminAccess.ts';
import { createAdminApp } from '../admin/adminApp.ts';
import { urlOverridesFromEnv } from '../config/validateBackends.ts';
import { closeNow } from '../drain.ts';
import { optionsFromEnv, port } from '../env.ts';
import { listen, urlOf } from '@mythoughts/runtime/http/listen';
import { createGatewayLogger } from '../observe/logger.ts';
import { PlanStore } from '../plan/planStore.ts';
import { startRolloutController, watchPlanForRollout } from '../rollout/rolloutSetup.ts';
import { parseCommandArgs } from './command.ts';

const RUN_HELP = `Usage: gateway rollout run

Runs the rollout controller as a process of its own, for several gateway replicas: start
every replica with GATEWAY_ROLLOUT=off and exactly one 'gateway rollout run' beside them.
It reads the gates from Prometheus (the sum over every replica it scrapes), writes each step
and rollback to the routes file exactly like 'gateway shift' (validated, atomic, audited;
the replicas pick the file up by their file watch), keeps its progress beside the file, and
serves /api/rollout (what 'gateway rollout status' and the commands use), /metrics (the
gateway_rollout_* series) and the dashboard's Rollouts panel on its own admin port.

Environment:
  GATEWAY_PROMETHEUS_URL       required: the Prometheus that scrapes every replica, e.g. http://prometheus:9090
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
  if (!options.rollout?.prometheusUrl)
    throw new ConfigError('gateway rollout run reads the gates from Prometheus: set GATEWAY_PROMETHEUS_URL, e.g. http://127.0.0.1:9090');
  const adminHost = options.adminHost ?? '127.0.0.1';
  checkAdminExposure(options);
  const logger = createGatewayLogger();
  const store = new PlanStore({ file: options.routesFile, auditFile: options.auditLogFile, urlOverride: urlOverridesFromEnv(process.env) });
  const read = await store.read();
  if (!read.ok) throw new ConfigError(read.message);
  const registry = new Registry();
  // No local traffic here: the gates come from Prometheus only.
  const controller = await startRolloutController(options.rollout, { store, routesFile: options.routesFile, registry, logger });
  const watcher = watchPlanForRollout(store, controller, logger);
  let stopping = false;
  const hosts = new AdminHostPolicy(options.adminHosts ?? []);
  const admin = createServer(
    createAdminApp({
      registry,
      hosts,
      token: options.adminToken ?? null,
      notReady: () => (stopping ? 'shutting down' : null),
      logger,
      rollout: controller,
      noOpsApi:
        "this admin port is gateway rollout run's: it serves /api/rollout, /metrics and the probes; the plan and traffic API are on the gateways' admin ports",
    }),
  );
  const adminPort = await listen(admin, {
    port: port(process.env, 'GATEWAY_ROLLOUT_ADMIN_PORT', 9902),
    host: adminHost,
    portVariable: 'GATEWAY_ROLLOUT_ADMIN_PORT',
  });
  hosts.listeningOn(adminHost, adminPort);
  logger.info(
    { adminUrl: urlOf(adminHost, adminPort), routes: options.routesFile },
    `gateway rollout run: controller on ${options.routesFile}, admin ${urlOf(adminHost, adminPort)}`,
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  stopping = true;
  logger.info({ signal }, 'gateway rollout run: stopping');
  watcher.stop();
  controller.close();
  await closeNow(admin);
  logger.flush();
  return 0;
}

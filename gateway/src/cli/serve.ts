import cluster from 'node:cluster';
import { ENVIRONMENT_HELP, optionsFromEnv, workersFromEnv } from '../env.ts';
import { runClusterPrimary } from '../cluster/primary.ts';
import { serveMetricsToPrimary } from '../cluster/workerMetrics.ts';
import { reportPlanToPrimary } from '../cluster/workerPlans.ts';
import { startGateway } from '../gateway.ts';
import { untilStopSignal } from '../stopSignal.ts';
import { createGatewayLogger } from '../observe/logger.ts';
import { parseCommandArgs, type Command } from './command.ts';

const HELP = `Usage: gateway serve

Runs the gateway: public port (8080), admin port (9901, 127.0.0.1). Re-reads the routes
file when it changes and on SIGHUP; SIGTERM/SIGINT finish in-flight requests and exit 0.
With GATEWAY_WORKERS=N (N > 1), N worker processes share the public port; the primary
serves the admin port (their summed /metrics, the probes) and runs the one rollout
controller (/api/rollout; the gates from every worker, or GATEWAY_PROMETHEUS_URL).

${ENVIRONMENT_HELP}`;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the gateway (configured by environment variables)',
  help: HELP,
  async run(args) {
    const { values } = parseCommandArgs(args, HELP, {});
    if (values.help) return 0;
    const options = optionsFromEnv(process.env);
    const workers = workersFromEnv(process.env);
    if (cluster.isPrimary && workers > 1) return runClusterPrimary(workers, options, createGatewayLogger());
    // A worker serves the public port only: the primary owns the admin port.
    // Workers run no rollout controller: N of them would step the same route N times (the primary runs it).
    // On the etcd store each worker publishes its own numbers (as <id>-worker-<n>) and tells the
    // primary which plan it serves: the primary registers the gateway in the fleet once.
    const worker = cluster.isWorker
      ? {
          adminPort: null,
          rollout: false as const,
          fleet: { ...options.fleet!, replicaId: `${options.fleet!.replicaId}-worker-${cluster.worker!.id}` },
          fleetReport: reportPlanToPrimary,
        }
      : {};
    const gateway = await startGateway({ ...options, ...worker });
    if (cluster.isWorker) serveMetricsToPrimary(gateway.metrics.registry);
    process.on('SIGHUP', () => {
      gateway.logger.info('SIGHUP: re-reading the routes file');
      void gateway.reload();
    });
    gateway.logger.info({ signal: await untilStopSignal() }, 'stopping');
    await gateway.close();
    // The metrics listener keeps the cluster channel open: let go of it so the worker exits.
    if (cluster.isWorker) process.disconnect();
    return 0;
  },
};

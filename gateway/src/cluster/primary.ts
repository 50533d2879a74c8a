import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { urlOverrideOf } from '../config/validateBackends.ts';
import { startControlPlane } from '../controlPlane.ts';
import { controlPlaneSettings, type GatewayOptions } from '../gateway.ts';
import { connectEtcd } from '../etcd/etcdConnection.ts';
import { fleetSettingsFromEnv } from '../fleet/fleetSettings.ts';
import { checkStoredPlan, openPlanStore } from '../plan/openPlanStore.ts';
import { untilStopSignal } from '../stopSignal.ts';
import { WorkerMetrics } from './workerMetrics.ts';
import { WorkerPlans } from './workerPlans.ts';

/** How long after SIGTERM a worker that has not exited is killed (on top of its own drain bound). */
const EXIT_GRACE_MS = 5_000;
/** A worker that dies on its own is replaced after this pause (no busy crash loop). */
const RESTART_DELAY_MS = 1_000;

/** What the primary's admin port answers under /api besides the rollout. */
const NO_OPS_API =
  "this admin port is a cluster primary's (GATEWAY_WORKERS>1): it serves /api/rollout, /metrics and the probes; the plan, traffic and shadow API read one process's state, so they need GATEWAY_WORKERS=1 (gateway shift and gateway panic edit routes.yaml without it)";

/**
 * The primary of `GATEWAY_WORKERS=N`: forks N workers that share the public port (each one a
 * whole gateway: plan, file watch, forwarding, its own metrics) and serves the admin port
 * itself with the workers' metrics summed (WorkerMetrics asks each worker over the cluster
 * channel). It runs the one rollout controller of the cluster (workers never run one: N of
 * them would step a route N times), judging the gates on every worker's metrics, or on
 * Prometheus with GATEWAY_PROMETHEUS_URL, and writing through its own PlanStore; the workers
 * pick each step up by their file watch. SIGHUP is passed to every worker; SIGTERM/SIGINT stop
 * them all and resolve once they have exited. The rest of the admin API reads per-process
 * state (recent traffic, shadow findings), so the admin port serves the probes, /metrics, the
 * rollout API and the dashboard's rollout panel.
 */
export async function runClusterPrimary(workers: number, options: GatewayOptions, logger: Logger): Promise<number> {
  // Fail fast, once, with every problem, rather than N workers each dying on the same file
  // (or, for the admin settings, the primary serving an open admin port while workers crash-loop).
  const etcd = options.planStore ? connectEtcd(options.planStore) : null;
  const store = openPlanStore({ file: options.routesFile, auditFile: options.auditLogFile, urlOverride: urlOverrideOf(options.backendUrls) }, etcd);
  // With etcd away the workers start from their cached copy; an invalid plan stops everything here.
  await checkStoredPlan(store).catch((error: unknown) => {
    etcd?.close();
    throw error;
  });

  const own = new Registry();
  const workerMetrics = new WorkerMetrics(own, logger);
  let stopping = false;
  const listening = new Set<number>();
  // The admin port before any worker: a port already taken fails before any worker exists.
  const control = await startControlPlane(controlPlaneSettings(options), {
    store,
    logger,
    rolloutRegistry: own,
    metrics: workerMetrics,
    gates: { read: () => workerMetrics.forGates(), name: "every worker's metrics" },
    api: { noOpsApi: NO_OPS_API },
    notReady: () => (stopping ? 'shutting down' : listening.size === 0 ? 'no worker listens yet' : null),
    // The workers watch the plan for themselves; the primary's watch only tells its rollout.
    onPlanChange: undefined,
    // On the etcd store the primary is the gateway in the fleet: its candidate in the rollout
    // election and its one registration (its workers publish their own numbers).
    fleet: etcd ? { etcd, settings: options.fleet ?? fleetSettingsFromEnv({}) } : null,
  });
  logger.info({ adminUrl: control.adminUrl, workers }, `gateway primary: ${workers} workers, admin port ${control.adminUrl}`);
  // On the etcd store the gateway is one replica of the fleet, registered by the primary from what its workers serve.
  const workerPlans = etcd ? new WorkerPlans(control) : null;

  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.once('listening', () => listening.add(worker.id));
    return worker;
  };
  cluster.on('exit', (worker, code, signal) => {
    listening.delete(worker.id);
    if (stopping) return;
    logger.error({ workerPid: worker.process.pid, code, signal }, 'gateway worker died: starting another');
    setTimeout(() => !stopping && fork(), RESTART_DELAY_MS).unref();
  });
  for (let i = 0; i < workers; i++) fork();

  process.on('SIGHUP', () => {
    logger.info('SIGHUP: every worker re-reads the routes file');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP');
    control.planChanged();
  });
  const signal = await untilStopSignal();
  stopping = true;
  control.drain();
  logger.info({ signal }, 'stopping every worker');
  const codes = await Promise.all(
    Object.values(cluster.workers ?? {}).map((worker) => stopWorker(worker!, (options.shutdownTimeoutMs ?? 10_000) + EXIT_GRACE_MS)),
  );
  await workerPlans?.joined();
  await control.close();
  etcd?.close();
  logger.info({ codes }, 'gateway stopped');
  logger.flush();
  return codes.every((code) => code === 0) ? 0 : 1;
}

/** SIGTERM (the worker drains itself), then SIGKILL if it outlives `graceMs`; its exit code. */
function stopWorker(worker: Worker, graceMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    if (worker.isDead()) return resolve(worker.process.exitCode);
    const killer = setTimeout(() => worker.process.kill('SIGKILL'), graceMs);
    worker.once('exit', (code) => {
      clearTimeout(killer);
      resolve(code);
    });
    worker.process.kill('SIGTERM');
  });
}

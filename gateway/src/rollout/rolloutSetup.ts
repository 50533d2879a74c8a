import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ConfigError } from '@mythoughts/runtime/errors';
import type { PlanStore } from '../plan/planStore.ts';
import type { GateReader } from './gateReader.ts';
import { LocalGateReader, type MetricsByProcess } from './localGateReader.ts';
import { Notifier, type NotifierOptions } from './notifier.ts';
import { PrometheusGateReader } from './prometheusGateReader.ts';
import { ProgressFile, progressFileFor } from './progressFile.ts';
import { RolloutController } from './rolloutController.ts';
import { RolloutMetrics } from './rolloutMetrics.ts';

/** How the gateway runs the rollout controller (GATEWAY_ROLLOUT, GATEWAY_PROMETHEUS_URL). */
export interface RolloutSetup {
  /** Read the gates from this Prometheus (the sum over replicas) instead of this process's metrics. */
  readonly prometheusUrl?: string | null;
  /** Default: routes.rollout.json beside the routes file (GATEWAY_ROLLOUT_STATE). */
  readonly progressFile?: string;
  readonly notifier?: NotifierOptions;
}

export interface RolloutDeps {
  readonly store: PlanStore;
  readonly routesFile: string;
  /** Where the rollout's own metrics go. */
  readonly registry: Registry;
  /**
   * The metrics the gates read when there is no Prometheus (this process's, or a cluster
   * primary's workers'), and what they are, for the log. Without it Prometheus is required.
   */
  readonly localMetrics?: { readonly read: MetricsByProcess; readonly name: string };
  readonly logger: Logger;
}

/** Builds the controller and resumes every rollout of the file. */
export async function startRolloutController(setup: RolloutSetup, deps: RolloutDeps): Promise<RolloutController> {
  if (setup.prometheusUrl && !/^https?:\/\/[^/\s]+/.test(setup.prometheusUrl))
    throw new ConfigError(`GATEWAY_PROMETHEUS_URL=${setup.prometheusUrl} is not an http(s) URL, e.g. http://prometheus:9090`);
  if (!setup.prometheusUrl && !deps.localMetrics)
    throw new ConfigError('this process has no traffic of its own to judge: set GATEWAY_PROMETHEUS_URL, e.g. http://127.0.0.1:9090');
  const metrics = new RolloutMetrics(deps.registry);
  const reader: GateReader = setup.prometheusUrl ? new PrometheusGateReader(setup.prometheusUrl) : new LocalGateReader(deps.localMetrics!.read);
  const progress = new ProgressFile(setup.progressFile ?? progressFileFor(deps.routesFile));
  const controller = new RolloutController({
    store: deps.store,
    progress,
    reader,
    metrics,
    notifier: new Notifier(deps.logger, metrics, setup.notifier),
    logger: deps.logger,
  });
  await controller.start();
  const gates = setup.prometheusUrl ? `Prometheus at ${setup.prometheusUrl}` : deps.localMetrics!.name;
  deps.logger.info({ gates, progress: progress.file }, `rollout controller running (gates from ${gates})`);
  return controller;
}

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ConfigError } from '@mythoughts/runtime/errors';
import type { PlanStore } from '../plan/planStore.ts';
import { LocalGateReader, type MetricsByProcess } from './localGateReader.ts';
import { Notifier, type NotifierOptions } from './notifier.ts';
import { PrometheusGateReader } from './prometheusGateReader.ts';
import { ProgressFile, progressFileFor } from './progressFile.ts';
import { EtcdProgress } from './etcdProgress.ts';
import { FleetRollout, type FleetRolloutSettings } from './fleetRollout.ts';
import type { ProgressStore } from './progress.ts';
import type { RolloutControl } from './rolloutControl.ts';
import { RolloutController, type FleetPlans, type RolloutControllerOptions } from './rolloutController.ts';
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
  /** On the etcd store: one controller for the whole fleet, its leader elected (null or absent: this process's own). */
  readonly fleet?: FleetRolloutDeps | null;
  readonly logger: Logger;
}

/** What a fleet's rollout needs besides the election: which replica serves which plan, and every replica's numbers. */
export interface FleetRolloutDeps extends FleetRolloutSettings {
  readonly plans: FleetPlans;
  /** Every live replica's published counters by replica id: the gates without Prometheus. */
  readonly metrics: MetricsByProcess;
}

/**
 * Builds the rollout control: on a file plan the controller of this process, resumed from the
 * progress file at once; on the etcd store the fleet's, which steps only while this process
 * leads (it campaigns once its admin API listens) and keeps its progress in etcd.
 */
export async function startRolloutController(setup: RolloutSetup, deps: RolloutDeps): Promise<RolloutControl> {
  if (setup.prometheusUrl && !/^https?:\/\/[^/\s]+/.test(setup.prometheusUrl))
    throw new ConfigError(`GATEWAY_PROMETHEUS_URL=${setup.prometheusUrl} is not an http(s) URL, e.g. http://prometheus:9090`);
  const fleet = deps.fleet ?? null;
  const local = fleet ? { read: fleet.metrics, name: "every live replica's counters (published in etcd)" } : deps.localMetrics;
  if (!setup.prometheusUrl && !local)
    throw new ConfigError('this process has no traffic of its own to judge: set GATEWAY_PROMETHEUS_URL, e.g. http://127.0.0.1:9090');
  const metrics = new RolloutMetrics(deps.registry);
  const gates = setup.prometheusUrl ? `Prometheus at ${setup.prometheusUrl}` : local!.name;
  const controllerOn = (progress: ProgressStore, term: Pick<RolloutControllerOptions, 'leadership' | 'holdReason' | 'fleet' | 'actor'>) =>
    new RolloutController({
      store: deps.store,
      progress,
      reader: setup.prometheusUrl ? new PrometheusGateReader(setup.prometheusUrl) : new LocalGateReader(local!.read),
      metrics,
      notifier: new Notifier(deps.logger, metrics, setup.notifier),
      logger: deps.logger,
      ...term,
    });
  if (fleet) {
    const progress = new EtcdProgress(fleet.etcd);
    deps.logger.info(
      { gates, progress: progress.where },
      `rollout controller: campaigning to lead the fleet's rollouts as ${fleet.replicaId} (gates from ${gates})`,
    );
    const actor = `rollout@${fleet.replicaId}`;
    return new FleetRollout(
      fleet,
      (leadership, holdReason) => controllerOn(progress, { leadership, holdReason, fleet: fleet.plans, actor }),
      metrics,
      deps.logger,
    );
  }
  const progress = new ProgressFile(setup.progressFile ?? progressFileFor(deps.routesFile));
  const controller = controllerOn(progress, {});
  await controller.start();
  deps.logger.info({ gates, progress: progress.where }, `rollout controller running (gates from ${gates})`);
  return controller;
}

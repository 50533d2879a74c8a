import type { RolloutConfig, RolloutStep } from '../config/routesConfig.ts';
import type { RolloutStatus } from './decideStep.ts';
import type { CheckRecord, RolloutEvent, RouteProgress } from './progress.ts';

/** A rollout as `gateway rollout status`, the admin API and the dashboard show it. */
export interface RolloutView {
  readonly route: string;
  readonly group: string;
  readonly backend: string;
  readonly status: RolloutStatus;
  readonly steps: readonly RolloutStep[];
  /** Index into steps, -1 before the first. */
  readonly stepIndex: number;
  readonly percent: number;
  readonly failures: number;
  readonly failureLimit: number;
  readonly onFailure: RolloutConfig['onFailure'];
  readonly intervalSeconds: number;
  /** Seconds until the next check; null when none is due (not progressing). */
  readonly nextCheckInSeconds: number | null;
  readonly lastCheck: CheckRecord | null;
  /** Newest first. */
  readonly events: readonly RolloutEvent[];
  /** Why no check runs now (the plan store unreachable, replicas not serving the step's plan yet), or null. */
  readonly holding: string | null;
  /**
   * In a fleet: the replica whose controller leads the rollouts (it answered this; while etcd
   * does not answer, the last one this replica heard from); null for a single controller.
   */
  readonly leader: string | null;
}

export function rolloutView(route: string, progress: RouteProgress, config: RolloutConfig, nextCheckAt: number | null, holding: string | null): RolloutView {
  return {
    route,
    group: progress.group,
    backend: progress.backend,
    status: progress.state.status,
    steps: config.steps,
    stepIndex: progress.state.stepIndex,
    percent: progress.state.percent,
    failures: progress.state.failures,
    failureLimit: config.failureLimit,
    onFailure: config.onFailure,
    intervalSeconds: config.intervalSeconds,
    nextCheckInSeconds: nextCheckAt === null ? null : Math.max(0, Math.round((nextCheckAt - Date.now()) / 100) / 10),
    lastCheck: progress.lastCheck,
    events: [...progress.events].reverse().slice(0, 20),
    holding,
    leader: null,
  };
}

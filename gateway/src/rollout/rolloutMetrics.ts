import { Counter, Gauge, type Registry } from 'prom-client';
import { ROLLOUT_STATUSES, type RolloutStatus } from './decideStep.ts';
import { GATE_NAMES, type GateResult } from './gates.ts';

const CHECK_RESULTS = ['passed', 'failed', 'inconclusive'] as const;

/** The rollout's metrics, on the gateway's registry (or the `gateway rollout run` process's own). */
export class RolloutMetrics {
  readonly percent: Gauge<'route'>;
  readonly checks: Counter<'route' | 'result'>;
  readonly gateValue: Gauge<'route' | 'gate'>;
  readonly state: Gauge<'route' | 'state'>;
  readonly notifications: Counter<'result'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.percent = new Gauge({
      name: 'gateway_rollout_percent',
      help: "The new backend's percent the rollout of a route stands at",
      labelNames: ['route'],
      registers,
      aggregator: 'max',
    });
    this.checks = new Counter({
      name: 'gateway_rollout_checks_total',
      help: 'Rollout checks by route and result: passed, failed, inconclusive',
      labelNames: ['route', 'result'],
      registers,
    });
    this.gateValue = new Gauge({
      name: 'gateway_rollout_gate_value',
      help: "Each gate's value at the last check: requests, error_percent, p95_ms, p95_ratio, comparisons, mismatch_percent",
      labelNames: ['route', 'gate'],
      registers,
      aggregator: 'max',
    });
    this.state = new Gauge({
      name: 'gateway_rollout_state',
      help: "The rollout's state: 1 for the current one of progressing, paused, failed, rolled_back, completed",
      labelNames: ['route', 'state'],
      registers,
      aggregator: 'max',
    });
    this.notifications = new Counter({
      name: 'gateway_rollout_notifications_total',
      help: 'Webhook deliveries by result: delivered, retried, failed (gave up), dropped (queue full)',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['delivered', 'retried', 'failed', 'dropped']) this.notifications.inc({ result }, 0);
  }

  show(route: string, status: RolloutStatus, percent: number): void {
    this.percent.set({ route }, percent);
    for (const state of ROLLOUT_STATUSES) this.state.set({ route, state }, state === status ? 1 : 0);
    for (const result of CHECK_RESULTS) this.checks.inc({ route, result }, 0);
  }

  checked(route: string, result: string, gates: readonly GateResult[]): void {
    this.checks.inc({ route, result });
    for (const gate of gates) {
      if (gate.value === null) this.gateValue.remove({ route, gate: gate.gate });
      else this.gateValue.set({ route, gate: gate.gate }, gate.value);
    }
  }

  /**
   * This process stops leading the fleet's rollouts (handed over, deposed, lease lost): its
   * gauges go, so only the leader reports a rollout's state and `max by (route)` over the fleet
   * is the leader's. The counters stay: each check and delivery was counted once, by the
   * replica that made it, and summing them over the fleet is right.
   */
  stopReporting(): void {
    this.percent.reset();
    this.state.reset();
    this.gateValue.reset();
  }

  /** A route whose rollout block is gone: its series go too. */
  forget(route: string): void {
    this.percent.remove({ route });
    for (const state of ROLLOUT_STATUSES) this.state.remove({ route, state });
    for (const result of CHECK_RESULTS) this.checks.remove({ route, result });
    for (const gate of GATE_NAMES) this.gateValue.remove({ route, gate });
  }
}

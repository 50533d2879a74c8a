import cluster from 'node:cluster';
import type { ControlPlane, ReplicaPlanState } from '../controlPlane.ts';
import { isMessage } from './clusterMessages.ts';

// A worker's report to its primary over the cluster channel: the plan it serves.
const PLAN = 'gateway:plan-state';

interface PlanReport {
  readonly type: typeof PLAN;
  readonly publicUrl: string;
  readonly state: ReplicaPlanState;
}

/** In a cluster worker on the etcd store: tells the primary which plan it serves (what the gateway's one fleet registration is made of). */
export function reportPlanToPrimary(publicUrl: string, state: ReplicaPlanState): void {
  process.send?.({ type: PLAN, publicUrl, state } satisfies PlanReport);
}

/**
 * In the cluster primary on the etcd store: the gateway's ONE registration in the fleet (it
 * appears once in `gateway fleet`, with the primary's admin URL), joined when the first
 * worker reports and kept to what its workers serve: the version its slowest worker still
 * serves, so the gateway is `in sync` only once every worker applied the store's plan and a
 * fleet rollout's step waits for all of them; a rejection any worker reported; the store up
 * only while every worker reaches it. A worker that exits no longer counts.
 */
export class WorkerPlans {
  /** Each reporting worker (by cluster id): its last report and since when it serves that version. */
  private readonly workers = new Map<number, { readonly publicUrl: string; readonly state: ReplicaPlanState; readonly since: number }>();
  private joining: Promise<void> | null = null;

  constructor(private readonly control: Pick<ControlPlane, 'joinFleet' | 'planServed' | 'planRejected' | 'storeUp'>) {
    cluster.on('message', (worker, message: unknown) => {
      if (!isMessage<PlanReport>(message, PLAN)) return;
      const before = this.workers.get(worker.id);
      const since = before?.state.served === message.state.served ? before.since : Date.now();
      this.workers.set(worker.id, { publicUrl: message.publicUrl, state: message.state, since });
      this.tell();
    });
    cluster.on('exit', (worker) => {
      if (this.workers.delete(worker.id)) this.tell();
    });
  }

  private tell(): void {
    const reports = [...this.workers.values()];
    if (reports.length === 0) return;
    const slowest = reports.reduce((oldest, report) => (report.since < oldest.since ? report : oldest));
    const state: ReplicaPlanState = {
      served: slowest.state.served,
      rejected: slowest.state.rejected ?? reports.find((report) => report.state.rejected)?.state.rejected ?? null,
      storeUp: reports.every((report) => report.state.storeUp),
    };
    if (this.joining === null) {
      this.joining = this.control.joinFleet(slowest.publicUrl, state);
      return;
    }
    this.control.planServed(state.served);
    if (state.rejected) this.control.planRejected(state.rejected.version, state.rejected.message);
    this.control.storeUp(state.storeUp);
  }

  /** Resolves once the registration was first tried (at once when no worker reported yet). */
  async joined(): Promise<void> {
    await this.joining;
  }
}

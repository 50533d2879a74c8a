import type { Logger } from 'pino';
import type { Refusal } from '../plan/planChange.ts';
import { RolloutElection, type Candidate } from './leaderElection.ts';
import type { Leadership } from './progress.ts';
import type { CommandResult, RolloutCommand, RolloutControl } from './rolloutControl.ts';
import type { RolloutController } from './rolloutController.ts';
import type { RolloutMetrics } from './rolloutMetrics.ts';
import type { RolloutView } from './rolloutView.ts';
import type { EtcdConnection } from '../etcd/etcdConnection.ts';

export interface FleetRolloutSettings {
  readonly etcd: EtcdConnection;
  /** This process in the election (GATEWAY_REPLICA_ID). */
  readonly replicaId: string;
  /** Lease of its candidacy (GATEWAY_FLEET_TTL_SECONDS): a leader that dies is replaced after it. */
  readonly ttlSeconds: number;
  /** Where the others reach its admin API (GATEWAY_ADVERTISE_ADMIN_URL); null: the admin listener's own URL. */
  readonly advertiseAdminUrl: string | null;
  /** The admin token the replicas share, for the requests a follower passes on to the leader. */
  readonly adminToken: string | null;
}

/** A controller for one leadership term: every write it makes carries `leadership`; `holdReason` tells it when to hold. */
export type ControllerFactory = (leadership: Leadership, holdReason: () => Promise<string | null>) => RolloutController;

/** Why the rollouts hold while etcd does not answer: no controller can write anything, so nothing moves. */
const STORE_AWAY = 'the plan store (etcd) does not answer: no step and no rollback until it does';

/** Bound on a request passed on to the leader. */
const LEADER_TIMEOUT_MS = 5_000;

/**
 * The fleet's one rollout controller: this process campaigns in the election, and only while
 * it leads does it run a controller (a new one per term, which resumes from the progress in
 * etcd: the same step, whatever the last leader did). Followers answer the rollout API with
 * the leader's answer (passed on to its admin URL), or say who leads and why it cannot be asked;
 * with etcd away, which nobody can be asked about, the rollouts as this replica last saw them,
 * holding. A term that ends takes the rollout's gauges with it: only the leader reports them.
 */
export class FleetRollout implements RolloutControl {
  private controller: RolloutController | null = null;
  /** The rollouts as this replica last answered them, by route (shown, holding, while etcd is away). */
  private readonly lastSeen = new Map<string, RolloutView>();
  private election: RolloutElection | null = null;
  /** Terms start and end one at a time: a new term never overlaps the last one's work. */
  private terms: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly settings: FleetRolloutSettings,
    private readonly build: ControllerFactory,
    private readonly metrics: RolloutMetrics,
    private readonly logger: Logger,
  ) {}

  listening(adminUrl: string | null): void {
    if (this.election || this.closed) return;
    const me: Candidate = { replica: this.settings.replicaId, adminUrl: this.settings.advertiseAdminUrl ?? adminUrl };
    this.election = new RolloutElection(
      this.settings.etcd,
      me,
      this.settings.ttlSeconds,
      { elected: (leadership) => this.begin(leadership), lost: (why) => void this.end(why) },
      this.logger,
    );
    this.election.start();
  }

  async status(route?: string): Promise<RolloutView[] | ({ readonly ok: false } & Refusal)> {
    const views = this.controller ? this.asLeader(await this.controller.status(route)) : await this.leaderStatus(route);
    if (Array.isArray(views)) this.remember(views, route === undefined);
    return views;
  }

  async command(route: string, command: RolloutCommand, who: string, reason: string | null): Promise<CommandResult> {
    if (this.controller) {
      const result = await this.controller.command(route, command, who, reason);
      return result.ok ? this.remembered({ ...result, rollout: { ...result.rollout, leader: this.settings.replicaId } }) : result;
    }
    const leader = await this.whoLeads();
    if ('away' in leader) return storeAway(leader.away);
    // `who` already says how the human got in here: the leader adds this replica's id, not its own mark.
    const answer = await this.fromLeader<{ message: string; rollout: RolloutView }>(leader.candidate, 'POST', `/${encodeURIComponent(route)}/${command}`, {
      by: who,
      passedOnBy: this.settings.replicaId,
      reason,
    });
    return answer.ok ? this.remembered({ ok: true, ...answer.value }) : answer;
  }

  planChanged(): void {
    this.controller?.planChanged();
  }

  /** The controller ends its work under way, then the candidacy is resigned: the next candidate leads within a second. */
  async close(): Promise<void> {
    this.closed = true;
    await this.end('this process stops');
    await this.election?.close();
  }

  private begin(leadership: Leadership): void {
    this.terms = this.terms.then(async () => {
      if (this.closed) return;
      const controller = this.build(leadership, () => this.holdReason(leadership));
      this.controller = controller;
      await this.resume(controller);
    });
  }

  /** Reads the progress and the plan and resumes every rollout; with the store away, again every second while the term lasts. */
  private async resume(controller: RolloutController): Promise<void> {
    try {
      await controller.start();
    } catch (error) {
      this.logger.error({ err: error }, `rollout leader ${this.settings.replicaId} cannot resume the rollouts yet: ${(error as Error).message}`);
      const retry = setTimeout(() => {
        if (this.controller === controller) this.terms = this.terms.then(() => this.resume(controller));
      }, 1_000);
      retry.unref();
    }
  }

  private end(why: string): Promise<void> {
    this.terms = this.terms.then(async () => {
      const controller = this.controller;
      this.controller = null;
      if (controller) {
        this.logger.info({ problem: why }, `rollout controller of ${this.settings.replicaId} stops: ${why}`);
        await controller.close();
        // Only the leader reports a rollout's state: an ex-leader's last values would be a second, stale one.
        this.metrics.stopReporting();
      }
    });
    return this.terms;
  }

  /** Held while etcd does not answer or the leadership is gone (then the election starts over and the term ends). */
  private async holdReason(leadership: Leadership): Promise<string | null> {
    const standing = await this.election!.standing(leadership);
    if (standing === 'leading') return null;
    if (standing === 'deposed') return 'not the rollout leader any more: another replica leads';
    return STORE_AWAY;
  }

  private asLeader(views: RolloutView[] | ({ readonly ok: false } & Refusal)): RolloutView[] | ({ readonly ok: false } & Refusal) {
    return Array.isArray(views) ? views.map((view) => ({ ...view, leader: this.settings.replicaId })) : views;
  }

  /** The leader's answer; while etcd does not answer, the rollouts as this replica last saw them, holding. */
  private async leaderStatus(route?: string): Promise<RolloutView[] | ({ readonly ok: false } & Refusal)> {
    const leader = await this.whoLeads();
    if ('away' in leader) return this.lastSeenHolding(route) ?? storeAway(leader.away);
    const answer = await this.fromLeader<{ rollouts: RolloutView[] } | RolloutView>(
      leader.candidate,
      'GET',
      route === undefined ? '' : `/${encodeURIComponent(route)}`,
    );
    if (!answer.ok) return answer;
    return 'rollouts' in answer.value ? answer.value.rollouts : [answer.value];
  }

  /** Who leads now, asked of etcd; `away` (etcd's error) when it does not answer. */
  private async whoLeads(): Promise<{ readonly candidate: Candidate | null } | { readonly away: string }> {
    try {
      return { candidate: (await this.election?.leader()) ?? null };
    } catch (error) {
      return { away: (error as Error).message };
    }
  }

  /** What this replica answers from now on while etcd is away: the last views it gave (the leader's, or its own as leader). */
  private remember(views: readonly RolloutView[], all: boolean): void {
    if (all) this.lastSeen.clear();
    for (const view of views) this.lastSeen.set(view.route, view);
  }

  private remembered(result: CommandResult): CommandResult {
    if (result.ok) this.remember([result.rollout], false);
    return result;
  }

  /**
   * With etcd away no controller can write a step or a rollback (every write is an etcd
   * transaction), so the rollouts stand where this replica last saw them: those views, saying
   * so. Null when it has seen none (of `route`).
   */
  private lastSeenHolding(route?: string): RolloutView[] | null {
    const views = route === undefined ? [...this.lastSeen.values()] : this.lastSeen.has(route) ? [this.lastSeen.get(route)!] : [];
    if (views.length === 0) return null;
    return views.map((view) => ({ ...view, nextCheckInSeconds: null, holding: `${STORE_AWAY}; shown as this replica last saw it` }));
  }

  /** The same request to the leader's admin API; its answer as it is, or why there is none. */
  private async fromLeader<T>(
    leader: Candidate | null,
    method: 'GET' | 'POST',
    path: string,
    body?: Readonly<Record<string, unknown>>,
  ): Promise<{ readonly ok: true; readonly value: T } | ({ readonly ok: false } & Refusal)> {
    if (leader === null) return refusal(503, 'no replica leads the rollouts right now (an election is under way): ask again in a few seconds');
    if (leader.replica === this.settings.replicaId)
      return refusal(503, `${leader.replica} (this replica) was just elected to lead the rollouts: ask again in a second`);
    if (leader.adminUrl === null) return refusal(503, `${leader.replica} leads the rollouts but advertises no admin URL (GATEWAY_ADVERTISE_ADMIN_URL): ask it`);
    const where = `${leader.replica} leads the rollouts (admin ${leader.adminUrl})`;
    let response: Response;
    try {
      response = await fetch(`${leader.adminUrl}/api/rollout${path}`, {
        method,
        headers: {
          ...(this.settings.adminToken ? { authorization: `Bearer ${this.settings.adminToken}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(LEADER_TIMEOUT_MS),
      });
    } catch (error) {
      return refusal(503, `${where} but does not answer: ${(error as Error).message}`);
    }
    const answer = (await response.json().catch(() => null)) as (T & { message?: string }) | null;
    if (answer === null) return refusal(503, `${where} but answered ${response.status} without JSON`);
    if (!response.ok) return refusal(response.status as Refusal['status'], answer.message ?? `${where}: it answered ${response.status}`);
    return { ok: true, value: answer };
  }
}

/** Why nobody can tell who leads (etcd does not answer) and this replica has no view of the rollouts to show. */
function storeAway(error: string): { readonly ok: false } & Refusal {
  return refusal(
    503,
    `the plan store (etcd) does not answer (${error}), so nobody can tell who leads the rollouts: they hold (no step, no rollback) until it does`,
  );
}

function refusal(status: Refusal['status'], message: string): { readonly ok: false } & Refusal {
  return { ok: false, status, message };
}

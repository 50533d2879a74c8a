import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { listen, urlOf } from '@mythoughts/runtime/http/listen';
import { AdminHostPolicy, checkAdminExposure, type AdminExposure } from './admin/adminAccess.ts';
import { createAdminApp, type AdminDeps, type MetricsSource } from './admin/adminApp.ts';
import { closeNow } from './drain.ts';
import type { EtcdConnection } from './etcd/etcdConnection.ts';
import { fleetMetrics, listReplicas } from './fleet/fleetReader.ts';
import type { FleetSettings } from './fleet/fleetSettings.ts';
import { awaited } from './fleet/fleetStatus.ts';
import { FleetView } from './fleet/fleetView.ts';
import { joinFleet, type FleetMember } from './fleet/joinFleet.ts';
import type { PublishedNumbers } from './fleet/metricsPublisher.ts';
import type { PlanStore } from './plan/planStore.ts';
import type { MetricsByProcess } from './rollout/localGateReader.ts';
import type { RolloutControl } from './rollout/rolloutControl.ts';
import { startRolloutController, type FleetRolloutDeps, type RolloutSetup } from './rollout/rolloutSetup.ts';

export interface ControlPlaneSettings extends AdminExposure {
  /** Null: no admin server (a cluster worker). */
  readonly adminPort: number | null;
  /** The variable that names the admin port, for the error when it is taken. */
  readonly adminPortVariable: string;
  /** False: this process runs no rollout controller (GATEWAY_ROLLOUT=off, a cluster worker). */
  readonly rollout: RolloutSetup | false;
  readonly routesFile: string;
}

export interface ControlPlaneDeps {
  readonly store: PlanStore;
  readonly logger: Logger;
  /** Where the rollout's own metrics go. */
  readonly rolloutRegistry: Registry;
  /** What /metrics serves (this process's registry, or a cluster primary's sum of its workers). */
  readonly metrics: MetricsSource;
  /** The traffic the rollout gates read without Prometheus (this process's, or the workers'); absent: Prometheus only. */
  readonly gates?: { readonly read: MetricsByProcess; readonly name: string };
  /** A process that serves traffic: the plan/traffic/shadow API; otherwise why /api holds only the rollout. */
  readonly api: Pick<AdminDeps, 'ops' | 'shadowFindings'> | { readonly noOpsApi: string };
  readonly notReady: () => string | null;
  /**
   * What a change of the stored plan triggers: a gateway reloads its running plan (which then
   * tells the rollout); without it (a cluster primary, `gateway rollout run`) the rollout is
   * told directly. Null: no watching (GATEWAY_WATCH off, or a process that never writes).
   */
  readonly onPlanChange: (() => void) | undefined | null;
  /**
   * On the etcd store (GATEWAY_PLAN_STORE): this process in the fleet; its rollout controller is
   * the fleet's, run by the elected leader, and its admin API shows the fleet's numbers.
   */
  readonly fleet?: FleetDeps | null;
}

/** What a replica's registration says about its plan. */
export interface ReplicaPlanState {
  readonly served: string;
  readonly rejected: { readonly version: string; readonly message: string } | null;
  readonly storeUp: boolean;
}

export interface FleetDeps {
  readonly etcd: EtcdConnection;
  readonly settings: FleetSettings;
  /** A process that serves traffic: what it publishes (its registry, recent traffic, shadow findings); absent: nothing (a cluster primary, gateway rollout run). */
  readonly numbers?: PublishedNumbers;
  /**
   * A cluster worker: its primary registers the whole gateway once, from what each worker
   * reports through this; the worker itself only publishes its numbers. Absent: the process
   * registers itself when it joins (`gateway serve`, a cluster primary).
   */
  readonly report?: (publicUrl: string, state: ReplicaPlanState) => void;
}

/** The control plane of one process: off the request path, started in one place, stopped in one call. */
export interface ControlPlane {
  readonly adminUrl: string | null;
  /** Null when this process runs no rollout controller. */
  readonly rollout: RolloutControl | null;
  /** The running plan changed (or may have): the rollout looks at what that means for it. */
  planChanged(): void;
  /**
   * Joins the fleet (etcd store only; a no-op otherwise) once the public port listens: the
   * replica's registration, from what it serves now (`now`), and its published numbers (a
   * cluster worker: its numbers, and what it serves told to its primary).
   */
  joinFleet(publicUrl: string, now: ReplicaPlanState): Promise<void>;
  /** What the replica's registration says it serves, or refused (the validation message); a no-op outside a fleet. */
  planServed(version: string): void;
  planRejected(version: string, message: string): void;
  storeUp(up: boolean): void;
  /**
   * The process is shutting down but still serves (its drain): the rollout controller stops
   * (a leader resigns: the next candidate leads at once), and the fleet registration says
   * `draining`, so the fleet's next step does not wait for it. The plan store is still watched,
   * so what it serves until its public port closes is the fleet's current plan. The admin port
   * still answers (its /readyz says 503).
   */
  drain(): void;
  /** drain(), the watch stopped, the fleet left and the admin port closed. */
  close(): Promise<void>;
}

/**
 * The bootstrap every process of the gateway shares (`gateway serve`, a cluster primary,
 * `gateway rollout run`): the admin-exposure check, the rollout controller (resuming what
 * the store says), the admin server and the watch of the plan store.
 */
export async function startControlPlane(settings: ControlPlaneSettings, deps: ControlPlaneDeps): Promise<ControlPlane> {
  if (settings.adminPort !== null) checkAdminExposure(settings);
  const { logger } = deps;
  const rollout =
    settings.rollout === false
      ? null
      : await startRolloutController(settings.rollout, {
          store: deps.store,
          routesFile: settings.routesFile,
          registry: deps.rolloutRegistry,
          localMetrics: deps.gates,
          fleet: deps.fleet ? fleetRollout(deps.fleet, settings.adminToken || null) : null,
          logger,
        });
  let admin: Server | null = null;
  let adminUrl: string | null = null;
  const fleetView = deps.fleet ? new FleetView(deps.fleet.etcd.keys) : null;
  let member: FleetMember | null = null;
  try {
    if (settings.adminPort !== null) {
      const hosts = new AdminHostPolicy(settings.adminHosts ?? []);
      admin = createServer(
        createAdminApp({
          registry: deps.metrics,
          hosts,
          token: settings.adminToken || null,
          notReady: deps.notReady,
          logger,
          rollout,
          fleet: fleetView,
          ...deps.api,
        }),
      );
      const adminHost = settings.adminHost ?? '127.0.0.1';
      const port = await listen(admin, { port: settings.adminPort, host: adminHost, portVariable: settings.adminPortVariable });
      hosts.listeningOn(adminHost, port);
      adminUrl = urlOf(adminHost, port);
    }
  } catch (error) {
    await rollout?.close();
    throw error;
  }
  rollout?.listening(adminUrl);

  // The rollout's end (its work under way finished, a fleet leader resigned) is awaited by close().
  let rolloutClosed: Promise<void> | null = null;
  // Once draining, the plan is still watched (the process still serves it) but a closed
  // controller must not react to it: that is the next leader's business.
  const tellRollout = () => {
    if (rolloutClosed === null) rollout?.planChanged();
  };
  const onPlanChange = deps.onPlanChange === undefined ? tellRollout : deps.onPlanChange;
  const watcher =
    onPlanChange === null
      ? null
      : deps.store.watch(onPlanChange, (error) => logger.error({ err: error }, 'watching the plan store failed: changes now need SIGHUP'));

  const drain = () => {
    void member?.registry?.drain().catch((error: Error) => logger.warn({ err: error }, 'marking the fleet registration draining failed'));
    rolloutClosed ??= rollout?.close() ?? Promise.resolve();
  };
  // What the registration must say; kept from the first event on, so one that comes while the
  // replica is still joining is written once it has joined.
  let told: ReplicaPlanState | null = null;
  let publicUrl = '';
  const tellFleet = (change: Partial<ReplicaPlanState>) => {
    if (!told) return;
    told = { ...told, ...change };
    deps.fleet?.report?.(publicUrl, told);
    if (member) void writeTold(member, told);
  };
  const writeTold = async (to: FleetMember, state: ReplicaPlanState) => {
    if (!to.registry) return;
    try {
      await to.registry.planServed(state.served);
      if (state.rejected) await to.registry.planRejected(state.rejected.version, state.rejected.message);
      await to.registry.storeUp(state.storeUp);
    } catch (error) {
      logger.warn({ err: error }, 'updating the fleet registration failed (retried every second)');
    }
  };
  return {
    adminUrl,
    rollout,
    planChanged: tellRollout,
    async joinFleet(url, now) {
      const fleet = deps.fleet;
      if (!fleet) return;
      told = now;
      publicUrl = url;
      fleet.report?.(publicUrl, now);
      const joined = await joinFleet({
        keys: fleet.etcd.keys,
        settings: fleet.settings,
        registration: fleet.report ? null : { adminUrl, publicUrl, servedVersion: now.served },
        numbers: fleet.numbers ?? null,
        logger,
      });
      member = joined;
      await writeTold(joined, told);
    },
    planServed: (version) => tellFleet({ served: version }),
    planRejected: (version, message) => tellFleet({ rejected: { version, message } }),
    storeUp: (up) => tellFleet({ storeUp: up }),
    drain,
    async close() {
      drain();
      watcher?.stop();
      await rolloutClosed;
      // Leaving the fleet revokes the lease: the replica is gone from `gateway fleet` at once.
      await member?.close();
      if (admin) await closeNow(admin);
    },
  };
}

/** What the fleet's rollout reads of the fleet: which plan each live replica serves (a draining one is not waited for), and every replica's published counters. */
function fleetRollout({ etcd, settings }: FleetDeps, adminToken: string | null): FleetRolloutDeps {
  return {
    etcd,
    replicaId: settings.replicaId,
    ttlSeconds: settings.ttlSeconds,
    advertiseAdminUrl: settings.advertiseAdminUrl,
    adminToken,
    plans: {
      async notServing(version) {
        const replicas = await listReplicas(etcd.keys);
        return replicas.filter((r) => awaited(r) && r.plan.version !== version).map((r) => `${r.id} (serves ${r.plan.version.slice(0, 12)})`);
      },
    },
    metrics: fleetMetrics(etcd.keys),
  };
}

import { ConfigError } from '@mythoughts/runtime/errors';
import type { UrlOverride } from '../config/validateBackends.ts';
import type { EtcdConnection } from '../etcd/etcdConnection.ts';
import { EtcdPlanStore } from './etcdPlanStore.ts';
import { FilePlanStore } from './filePlanStore.ts';
import type { PlanStore } from './planStore.ts';

export interface PlanStoreSettings {
  /** The routes file (GATEWAY_ROUTES): the plan of the file store. */
  readonly file: string;
  /** The file store's audit log. Default: $GATEWAY_AUDIT_LOG, else routes.audit.jsonl beside the file. */
  readonly auditFile?: string;
  /** The backend URL replacements the gateway runs with, so validation judges the plan as it would. */
  readonly urlOverride?: UrlOverride;
}

/**
 * The plan store: in etcd when the process has a connection to it (GATEWAY_PLAN_STORE, opened
 * by the caller, who shares it with the fleet and the rollout), else the routes file.
 */
export function openPlanStore(settings: PlanStoreSettings, etcd: EtcdConnection | null = null): PlanStore {
  return etcd ? new EtcdPlanStore(etcd, settings.urlOverride) : new FilePlanStore(settings);
}

/**
 * Before a process that writes the plan starts (a cluster primary, `gateway rollout run`): the
 * store must hold a valid plan, else a ConfigError with every problem. A remote store that does
 * not answer is no reason to stop: the process starts and holds until it answers, as a replica
 * starts from its cached copy.
 */
export async function checkStoredPlan(store: PlanStore): Promise<void> {
  const read = await store.read();
  if (!read.ok && !(store.remote && read.status === 503)) throw new ConfigError(read.message);
}

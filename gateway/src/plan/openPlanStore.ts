import type { UrlOverride } from '../config/validateBackends.ts';
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

/** The plan store the settings name: GATEWAY_PLAN_STORE's etcd, or (unset) the routes file. */
export function openPlanStore(settings: PlanStoreSettings): PlanStore {
  return new FilePlanStore(settings);
}

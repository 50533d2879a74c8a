import type { Counter } from 'prom-client';
import type { RouteTable } from '../config/routeTable.ts';
import { AUDIT_ACTIONS } from './auditLog.ts';
import type { PlanStore } from './planStore.ts';

/** Audit entries read per reload: more than one change lands between two reloads only rarely. */
const AUDIT_WINDOW = 100;

/**
 * Turns the audit log into `gateway_plan_changes_total{action,route}`: when a reload brings
 * a new plan, the audit entries written for that file version (a shift, panic, rollout step
 * or rollback, from the CLI, the admin API or the rollout controller alike) are counted once.
 * Grafana draws its migration annotations from this counter, so every replica that picks the
 * change up tells the same story, whoever made it.
 */
export class PlanChangeCounter {
  private readonly counted = new Set<string>();

  constructor(
    private readonly store: PlanStore,
    private readonly changes: Counter<'action' | 'route'>,
  ) {}

  /** Every forwarding route of a newly running plan at 0 per action, so its first change is an increase Grafana can annotate. */
  showPlan(table: RouteTable): void {
    for (const route of table.routes) if (route.deny === null) for (const action of AUDIT_ACTIONS) this.changes.inc({ action, route: route.name }, 0);
  }

  /** Counts the audited changes that produced `version`, the plan now running. */
  async planRunning(version: string): Promise<void> {
    for (const entry of await this.store.audit(AUDIT_WINDOW)) {
      if (entry.version !== version) continue;
      const key = `${entry.time} ${entry.route} ${entry.version}`;
      if (this.counted.has(key)) continue;
      this.counted.add(key);
      this.changes.inc({ action: entry.action, route: entry.route });
    }
  }
}

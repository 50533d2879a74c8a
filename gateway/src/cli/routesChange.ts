import os from 'node:os';
import type { RouteTable } from '../config/routeTable.ts';
import type { EtcdConnection } from '../etcd/etcdConnection.ts';
import { FleetView } from '../fleet/fleetView.ts';
import { AdminClient } from './adminClient.ts';
import { confirmOnFleet, printConfirmation, WAIT_OPTION, WAIT_OPTION_HELP, waitFrom } from './fleetConfirm.ts';
import { estimateChange, formatEstimate, type RecentClientsReport } from '../plan/estimate.ts';
import type { ChangeRequest, RouteChange } from '../plan/planChange.ts';
import type { PlanStore } from '../plan/planStore.ts';
import { withPlanStore } from './planStoreFromEnv.ts';
import { formatSplit, sameSplit, type SplitPercents } from '../plan/splitPercents.ts';

/** Options shift and panic share, with their help lines. */
export const CHANGE_OPTIONS = {
  'dry-run': { type: 'boolean' },
  reason: { type: 'string' },
  by: { type: 'string' },
  file: { type: 'string' },
  only: { type: 'boolean' },
  ...WAIT_OPTION,
} as const;

export const CHANGE_OPTIONS_HELP = `  --dry-run        print the diff of the file and how many recent clients would change
                   backend (on the etcd store: from every replica's recent traffic); write
                   nothing
  --reason TEXT    why, for the audit log
  --by NAME        who, for the audit log (default: $USER)
  --only           change this route alone, not its whole group (clients may then see
                   different sides on the group's routes)
  --file FILE      routes file (default: $GATEWAY_ROUTES, else <repo>/routes.yaml)
${WAIT_OPTION_HELP}

The plan is validated with the gateway's own validator before it is written, comments and
layout stay as they are, and the running gateways pick it up. A routes file is written
atomically (temporary file + rename) and every applied change appended to the audit log:
$GATEWAY_AUDIT_LOG, else routes.audit.jsonl beside the routes file. With GATEWAY_PLAN_STORE
(etcd://HOST:PORT/PREFIX) the change goes straight to the store, plan and audit entry in one
transaction (no running gateway needed; 409 if the plan moved meanwhile, 503 if etcd is
unreachable), and every replica watching it applies it: the command waits until every live
replica of the fleet serves it and shows each one as 'gateway fleet' does; the recent clients
are those every replica publishes. On a routes file, the live numbers and the confirmation
come from a running gateway's admin API: GATEWAY_ADMIN_URL (default http://127.0.0.1:9901)
and GATEWAY_ADMIN_TOKEN.

Exit status: 0 done (or nothing to change), 1 refused (nothing written), 2 usage, 3 written
but not run by every live replica of the fleet (one rejected it or stayed behind).`;

export interface ChangeFlags {
  readonly 'dry-run'?: boolean;
  readonly reason?: string;
  readonly by?: string;
  readonly file?: string;
  readonly only?: boolean;
  readonly wait?: string;
}

/**
 * Runs a shift or panic from the command line and reports it: refusals on stderr (exit 1),
 * otherwise the diff (dry run) or what changed, the estimate of moved clients, and whether
 * the running gateways picked the new plan up (on the etcd store: every replica, else exit 3).
 */
export function runChange(request: ChangeRequest, flags: ChangeFlags): Promise<number> {
  const waitMs = waitFrom(flags.wait);
  return withPlanStore(flags.file, (store, etcd) => changeOn(store, etcd, request, flags, waitMs));
}

async function changeOn(store: PlanStore, etcd: EtcdConnection | null, request: ChangeRequest, flags: ChangeFlags, waitMs: number): Promise<number> {
  const dryRun = flags['dry-run'] === true;
  const result = await store.change(request, { who: cliUser(flags.by), via: 'cli', reason: flags.reason ?? null, dryRun });
  if (!result.ok) {
    process.stderr.write(`gateway: refused, ${store.location} is unchanged: ${result.message}\n`);
    return 1;
  }
  const out: string[] = [...result.notes.map((note) => `note: ${note}`)];
  if (result.changes.length === 0) {
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  }
  const admin = AdminClient.fromEnv();
  const { recent, source } = await recentClientsFor(result.before, etcd, admin);
  const estimate = estimateChange(result, recent);

  if (dryRun) out.push(result.diff.trimEnd());
  out.push(...result.changes.map(describeChange));
  // After a real change, a missing estimate is not worth a paragraph: the confirmation says why no gateway answers.
  if (dryRun || estimate.unavailable === null) out.push(...formatEstimate(estimate, source));
  if (dryRun) {
    out.push(`Dry run: ${store.location} was not written.`);
  } else {
    out.push(`Wrote ${store.location}; recorded in ${store.auditLocation}.`);
    if (etcd) return printConfirmation(out, await confirmOnFleet(etcd, result.version, waitMs));
    out.push(await confirmReload(admin, result.changes, waitMs));
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

/**
 * The recent clients to estimate a change from, and where they come from (said in the output):
 * on the etcd store what every replica of the fleet publishes, else the gateway at GATEWAY_ADMIN_URL.
 */
async function recentClientsFor(
  before: RouteTable,
  etcd: EtcdConnection | null,
  admin: AdminClient,
): Promise<{ recent: RecentClientsReport | { unavailable: string }; source: string }> {
  if (etcd === null) {
    const reply = await admin.get<RecentClientsReport>('/api/recent-clients');
    return { recent: reply.ok ? reply.value : { unavailable: reply.reason }, source: admin.baseUrl };
  }
  const fleet = await new FleetView(etcd.keys).recentClients(before);
  const replicas = fleet.replicas === 1 ? '1 replica' : `${fleet.replicas} replicas`;
  return { recent: fleet.recent, source: `the traffic of ${replicas} of the fleet; a client that reached several replicas counts once for each` };
}

/** Who runs the command, for the audit: --by, else $USER, else the account's name. */
export function cliUser(by: string | undefined): string {
  return by || process.env.USER || os.userInfo().username;
}

export function describeChange(change: RouteChange): string {
  return `${change.route}: ${formatSplit(change.before)} → ${formatSplit(change.after)}`;
}

/** Waits (up to `waitMs`) until the running gateway's plan shows the new splits. */
async function confirmReload(admin: AdminClient, changes: readonly RouteChange[], waitMs: number): Promise<string> {
  if (waitMs === 0) return `Not waiting for the gateway at ${admin.baseUrl} to run it (--wait 0).`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    const plan = await admin.get<{ routes: { name: string; split: SplitPercents | null }[] }>('/api/plan');
    if (!plan.ok) return `Not confirmed that a gateway runs it: ${plan.reason}.`;
    const running = changes.every((c) => {
      const split = plan.value.routes.find((r) => r.name === c.route)?.split;
      return split != null && sameSplit(split, c.after);
    });
    if (running) return `The gateway at ${admin.baseUrl} runs the new split.`;
    if (Date.now() > deadline)
      return `The gateway at ${admin.baseUrl} does not run the new split after ${waitMs / 1000} s: does it run this file? Check its log (a rejected file is logged with file:line).`;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

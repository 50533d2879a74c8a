import os from 'node:os';
import { AdminClient } from './adminClient.ts';
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
} as const;

export const CHANGE_OPTIONS_HELP = `  --dry-run        print the diff of the file and how many recent clients would change
                   backend; write nothing
  --reason TEXT    why, for the audit log
  --by NAME        who, for the audit log (default: $USER)
  --only           change this route alone, not its whole group (clients may then see
                   different sides on the group's routes)
  --file FILE      routes file (default: $GATEWAY_ROUTES, else <repo>/routes.yaml)

The plan is validated with the gateway's own validator before it is written, comments and
layout stay as they are, and the running gateways pick it up. A routes file is written
atomically (temporary file + rename) and every applied change appended to the audit log:
$GATEWAY_AUDIT_LOG, else routes.audit.jsonl beside the routes file. With GATEWAY_PLAN_STORE
(etcd://HOST:PORT/PREFIX) the change goes straight to the store, plan and audit entry in one
transaction (no running gateway needed; 409 if the plan moved meanwhile, 503 if etcd is
unreachable), and every replica watching it applies it. The live numbers come from a running
gateway's admin API: GATEWAY_ADMIN_URL (default http://127.0.0.1:9901) and GATEWAY_ADMIN_TOKEN.`;

export interface ChangeFlags {
  readonly 'dry-run'?: boolean;
  readonly reason?: string;
  readonly by?: string;
  readonly file?: string;
  readonly only?: boolean;
}

/**
 * Runs a shift or panic from the command line and reports it: refusals on stderr (exit 1),
 * otherwise the diff (dry run) or what changed, the estimate of moved clients, and whether
 * the running gateway picked the new file up.
 */
export function runChange(request: ChangeRequest, flags: ChangeFlags): Promise<number> {
  return withPlanStore(flags.file, (store) => changeOn(store, request, flags));
}

async function changeOn(store: PlanStore, request: ChangeRequest, flags: ChangeFlags): Promise<number> {
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
  const recent = await admin.get<RecentClientsReport>('/api/recent-clients');
  const estimate = estimateChange(result, recent.ok ? recent.value : { unavailable: recent.reason });

  if (dryRun) out.push(result.diff.trimEnd());
  out.push(...result.changes.map(describeChange));
  // After a real change, a missing estimate is not worth a paragraph: confirmReload says why the gateway is not reachable.
  if (dryRun || estimate.unavailable === null) out.push(...formatEstimate(estimate, admin.baseUrl));
  if (dryRun) {
    out.push(`Dry run: ${store.location} was not written.`);
  } else {
    out.push(`Wrote ${store.location}; recorded in ${store.auditLocation}.`);
    out.push(await confirmReload(admin, result.changes));
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

/** Who runs the command, for the audit: --by, else $USER, else the account's name. */
export function cliUser(by: string | undefined): string {
  return by || process.env.USER || os.userInfo().username;
}

export function describeChange(change: RouteChange): string {
  return `${change.route}: ${formatSplit(change.before)} → ${formatSplit(change.after)}`;
}

/** Waits (briefly) until the running gateway's plan shows the new splits. */
async function confirmReload(admin: AdminClient, changes: readonly RouteChange[]): Promise<string> {
  const deadline = Date.now() + 3_000;
  for (;;) {
    const plan = await admin.get<{ routes: { name: string; split: SplitPercents | null }[] }>('/api/plan');
    if (!plan.ok) return `Not confirmed that a gateway runs it: ${plan.reason}.`;
    const running = changes.every((c) => {
      const split = plan.value.routes.find((r) => r.name === c.route)?.split;
      return split != null && sameSplit(split, c.after);
    });
    if (running) return `The gateway at ${admin.baseUrl} runs the new split.`;
    if (Date.now() > deadline)
      return `The gateway at ${admin.baseUrl} does not run the new split after 3 s: does it run this file? Check its log (a rejected file is logged with file:line).`;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

import type { RouteTable } from '../config/routeTable.ts';
import type { RecentClients } from '../observe/recentClients.ts';
import { estimateMovedClients, expectedMovedShare, type MovedClients } from './movedClients.ts';
import { planLocation } from './planLocation.ts';
import type { RouteChange } from './planChange.ts';
import { formatShare } from './splitPercents.ts';

/** What a running gateway tells about its recent clients (GET /api/recent-clients, and `fleet/clients/<id>` on the etcd store). */
export interface RecentClientsReport {
  /** The plan the gateway runs: its routes file (absolute), or the store's URL. */
  readonly file: string;
  readonly salt: string;
  readonly windowSeconds: number;
  /** group → one cohort bucket per distinct recent client. */
  readonly groups: Readonly<Record<string, readonly number[]>>;
}

/** The buckets sorted: the same clients give the same report (a replica republishes it only when it changes). */
export function reportRecentClients(table: RouteTable, clients: RecentClients): RecentClientsReport {
  const groups: Record<string, number[]> = {};
  for (const route of table.routes) {
    if (route.deny === null && !(route.group in groups)) groups[route.group] = clients.buckets(route.seed).sort((a, b) => a - b);
  }
  return { file: planLocation(table.file), salt: table.cohort.salt, windowSeconds: clients.windowMs / 1000, groups };
}

/** The recent clients of a fleet's replicas as one report, and how many replicas' clients are in it. */
export interface FleetClients {
  readonly recent: RecentClientsReport | { readonly unavailable: string };
  readonly replicas: number;
}

/**
 * Puts together the recent clients every replica of a fleet published, for a change to
 * `before`: only the replicas that deal clients as that plan does (same plan, same salt) count.
 * Only buckets leave a replica, never the keys, so a client that reached several replicas
 * is counted once by each of them.
 */
export function mergeRecentClients(reports: readonly RecentClientsReport[], before: RouteTable): FleetClients {
  const file = planLocation(before.file);
  const salt = before.cohort.salt;
  const alike = reports.filter((report) => report.file === file && report.salt === salt);
  if (alike.length === 0) {
    const unavailable =
      reports.length === 0
        ? 'no replica of the fleet has published its recent clients (is any running on this store?)'
        : `none of the ${reports.length} replicas that published recent clients deals them with salt '${salt}' of ${file} (not reloaded yet?)`;
    return { recent: { unavailable }, replicas: 0 };
  }
  const groups: Record<string, number[]> = {};
  for (const report of alike) for (const [group, buckets] of Object.entries(report.groups)) (groups[group] ??= []).push(...buckets);
  return { recent: { file, salt, windowSeconds: Math.max(...alike.map((report) => report.windowSeconds)), groups }, replicas: alike.length };
}

export interface GroupEstimate {
  /** The routes that move as one: same group, same split before and after. */
  readonly routes: readonly string[];
  readonly group: string;
  /** Share of the group's clients expected to change side (uniform buckets), 0..1. */
  readonly expectedShare: number;
  /** From the recent clients, when they are known. */
  readonly recent: MovedClients | null;
}

export interface ClientEstimate {
  /** Null when the recent clients are known; otherwise why there is no estimate from them. */
  readonly unavailable: string | null;
  readonly windowSeconds: number | null;
  readonly groups: readonly GroupEstimate[];
}

/**
 * How many clients a change moves. From the running gateway's recent clients when it runs
 * this very file with the same salt (other buckets would be meaningless), always with the
 * expected share beside it. Clients are dealt per group, so routes of a group that change
 * alike are one line, not one per route.
 */
export function estimateChange(
  change: { readonly changes: readonly RouteChange[]; readonly before: RouteTable; readonly after: RouteTable },
  recent: RecentClientsReport | { readonly unavailable: string },
): ClientEstimate {
  let unavailable = 'unavailable' in recent ? recent.unavailable : null;
  if (unavailable === null && 'file' in recent) {
    const file = planLocation(change.before.file);
    if (recent.file !== file) unavailable = `the running gateway runs ${recent.file}, not ${file}`;
    else if (recent.salt !== change.before.cohort.salt)
      unavailable = `the running gateway deals clients with salt '${recent.salt}', the file says '${change.before.cohort.salt}' (not reloaded yet?)`;
  }
  const alike = new Map<string, RouteChange[]>();
  for (const c of change.changes) {
    const key = JSON.stringify([c.group, c.before, c.after]);
    alike.set(key, [...(alike.get(key) ?? []), c]);
  }
  const groups = [...alike.values()].map((changes) => {
    const first = changes[0]!;
    const before = change.before.routes.find((r) => r.name === first.route)!;
    const after = change.after.routes.find((r) => r.name === first.route)!;
    const buckets = unavailable === null && 'groups' in recent ? (recent.groups[before.group] ?? []) : null;
    return {
      routes: changes.map((c) => c.route),
      group: first.group,
      expectedShare: expectedMovedShare(before, after),
      recent: buckets === null ? null : estimateMovedClients(before, after, buckets),
    };
  });
  return { unavailable, windowSeconds: unavailable === null && 'windowSeconds' in recent ? recent.windowSeconds : null, groups };
}

/** `group thoughts (my-thoughts, thoughts)` or just `login`. */
function describeGroup(estimate: GroupEstimate): string {
  if (estimate.routes.length === 1 && estimate.routes[0] === estimate.group) return estimate.routes[0]!;
  return `group ${estimate.group} (${estimate.routes.join(', ')})`;
}

/** The estimate in a few lines for a terminal. */
export function formatEstimate(estimate: ClientEstimate, source: string): string[] {
  const lines: string[] = [];
  if (estimate.unavailable !== null) {
    lines.push(`No estimate from recent clients: ${estimate.unavailable}.`);
  } else {
    lines.push(`Recent clients (last ${Math.round(estimate.windowSeconds! / 60)} min, from ${source}):`);
  }
  for (const group of estimate.groups) {
    const name = describeGroup(group);
    const expected = `${formatShare(group.expectedShare)} of the group's clients expected to change backend`;
    if (group.recent === null) {
      lines.push(`  ${name}: ${expected}`);
    } else if (group.recent.clients === 0) {
      lines.push(`  ${name}: no recent clients with a cohort key; ${expected}`);
    } else {
      const flows = group.recent.flows.map((f) => `${f.from} → ${f.to} ${f.clients}`).join(', ');
      lines.push(
        `  ${name}: ${group.recent.moved} of ${group.recent.clients} recent clients (${formatShare(group.recent.moved / group.recent.clients)}) would change backend${flows ? ` (${flows})` : ''}; ${formatShare(group.expectedShare)} expected`,
      );
    }
  }
  return lines;
}

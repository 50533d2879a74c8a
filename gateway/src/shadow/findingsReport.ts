import type { MismatchRecord, ShadowRulesView } from './mismatchStore.ts';
import type { ShadowFindings } from './shadowMirror.ts';

/** What the admin API answers at /api/shadow/mismatches: one process's findings, or a fleet's merged. */
export interface FindingsReport {
  /** Mismatches recorded since start (a fleet: summed over its replicas). */
  readonly total: number;
  /** How many of the last mismatches are kept to be shown. */
  readonly capacity: number;
  /** Newest first; in a fleet each names the replica that recorded it. */
  readonly mismatches: readonly (MismatchRecord & { readonly replica?: string })[];
  /** Places learnt as noise, per route. */
  readonly noise: Readonly<Record<string, readonly string[]>>;
}

/** The admin API's whole answer: the findings, and each route's rules in the running plan (what `gateway mismatches export` needs). */
export interface MismatchesPage extends FindingsReport {
  /** Per route with a shadow in the running plan: what is mirrored and how answers are compared. */
  readonly rules: Readonly<Record<string, ShadowRulesView>>;
}

export interface FindingsQuery {
  readonly route?: string;
  readonly limit?: number;
}

export function findingsReport(findings: ShadowFindings, query: FindingsQuery = {}): FindingsReport {
  return { total: findings.store.total, capacity: findings.store.capacity, mismatches: findings.store.list(query), noise: findings.noise.snapshot() };
}

/** Several replicas' reports as one: totals summed, mismatches interleaved by time (each marked with its replica), noise united. */
export function mergeFindings(reports: ReadonlyMap<string, FindingsReport>, query: FindingsQuery = {}): FindingsReport {
  const all = [...reports].flatMap(([replica, report]) => report.mismatches.map((mismatch) => ({ ...mismatch, replica })));
  const chosen = all.filter((m) => query.route === undefined || m.route === query.route).sort((a, b) => b.at.localeCompare(a.at));
  const noise = new Map<string, Set<string>>();
  for (const report of reports.values()) {
    for (const [route, places] of Object.entries(report.noise)) noise.set(route, new Set([...(noise.get(route) ?? []), ...places]));
  }
  const sum = (pick: (report: FindingsReport) => number) => [...reports.values()].reduce((total, report) => total + pick(report), 0);
  return {
    total: sum((r) => r.total),
    capacity: sum((r) => r.capacity),
    mismatches: chosen.slice(0, query.limit ?? chosen.length),
    noise: Object.fromEntries([...noise].map(([route, places]) => [route, [...places].sort()])),
  };
}

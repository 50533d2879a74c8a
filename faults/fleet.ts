import { Election } from 'etcd3';
import { connectEtcd, ETCD_KEYS } from '../gateway/src/etcd/etcdConnection.ts';
import { etcdSettingsFromEnv } from '../gateway/src/etcd/etcdSettings.ts';
import type { AuditEntry } from '../gateway/src/plan/auditLog.ts';
import { cohortCookie } from '../gateway/test/helpers/cohort.ts';
import { LOAD_PATHS } from './case.ts';
import { startLoad, type Load, type LoadCounts } from './load.ts';
import type { GatewayProcess, Stand } from './stand.ts';

/**
 * What the fleet cases (a stand with `fleet`) ask of the replicas, through what an operator
 * uses: each replica's admin API (the plan version it serves, shifts, the audit log), and the
 * election's keys in etcd (who leads the rollout).
 */

/** The version of the plan a replica serves now (its /api/plan), or null when it does not answer. */
export async function servedVersion(replica: GatewayProcess): Promise<string | null> {
  try {
    const response = await fetch(`${replica.adminUrl}/api/plan`, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? ((await response.json()) as { version: string }).version : null;
  } catch {
    return null;
  }
}

/** Sets the thoughts group's share through a replica's admin API: the HTTP status and, when written, the new version. */
export async function shiftThrough(
  replica: GatewayProcess,
  percent: number,
  reason: string,
): Promise<{ status: number; version: string | null; message: string }> {
  const response = await fetch(`${replica.adminUrl}/api/routes/thoughts/split`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ backend: 'thoughts', percent, reason }),
  });
  const body = (await response.json()) as { version?: string; message?: string };
  return { status: response.status, version: body.version ?? null, message: body.message ?? '' };
}

/**
 * Milliseconds from `since` until every replica serves `version` (each polled every 5 ms), or
 * null for those that did not within `withinMs`.
 */
export async function timesToServe(replicas: readonly GatewayProcess[], version: string, since: number, withinMs: number): Promise<(number | null)[]> {
  return Promise.all(
    replicas.map(async (replica) => {
      for (;;) {
        if ((await servedVersion(replica)) === version) return performance.now() - since;
        if (performance.now() - since > withinMs) return null;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }),
  );
}

/** The audit log's entries, oldest first, as a replica's admin API serves them (the store's: one for the fleet). */
export async function auditOf(replica: GatewayProcess): Promise<AuditEntry[]> {
  const response = await fetch(`${replica.adminUrl}/api/audit?limit=1000`);
  if (!response.ok) throw new Error(`${replica.adminUrl}/api/audit answered ${response.status}`);
  return [...((await response.json()) as { entries: AuditEntry[] }).entries].reverse();
}

/** The rollout's steps in the audit log, oldest first: each `step` and `rollback` with the thoughts share it wrote. */
export function rolloutSteps(entries: readonly AuditEntry[]): { action: string; percent: number; who: string }[] {
  return entries
    .filter((entry) => entry.via === 'rollout' && entry.route === 'thoughts')
    .map((entry) => ({ action: entry.action, percent: entry.new.thoughts ?? 0, who: entry.who }));
}

/**
 * Reads the rollout election as every replica sees it: the replica that leads now (the oldest
 * live campaign), or null when nobody does or etcd does not answer.
 */
export function electionWatcher(stand: Stand): { leader(): Promise<GatewayProcess | null>; close(): void } {
  const etcd = connectEtcd(etcdSettingsFromEnv({ GATEWAY_PLAN_STORE: stand.storeUrl! })!);
  const campaigns = etcd.keys.namespace(`${Election.prefix}/${ETCD_KEYS.election}/`);
  return {
    async leader() {
      try {
        const values = await campaigns
          .getAll()
          .sort('Create', 'Ascend')
          .limit(1)
          .options({ deadline: Date.now() + 2_000 })
          .strings();
        const value = Object.values(values)[0];
        const id = value === undefined ? null : (JSON.parse(value) as { replica: string }).replica;
        return stand.replicas.find((replica) => replica.id === id) ?? null;
      } catch {
        return null;
      }
    },
    close: () => etcd.close(),
  };
}

/** The load of the fault cases spread over `replicas` (as a balancer deals clients): each gets its share of the clients. */
export function startFleetLoad(replicas: readonly GatewayProcess[], clients: number, name: string): Load {
  const loads = replicas.map((replica, index) =>
    startLoad({
      baseUrl: replica.url,
      paths: LOAD_PATHS,
      clients: Math.max(1, Math.floor(clients / replicas.length) + (index < clients % replicas.length ? 1 : 0)),
      headers: (n) => ({ cookie: cohortCookie(`${name}-${index}-${n}`) }),
    }),
  );
  const sum = (all: readonly LoadCounts[]): LoadCounts => ({
    tried: all.reduce((total, c) => total + c.tried, 0),
    failed: all.reduce((total, c) => total + c.failed, 0),
    statuses: all.reduce<Record<string, number>>((total, c) => {
      for (const [status, count] of Object.entries(c.statuses)) total[status] = (total[status] ?? 0) + count;
      return total;
    }, {}),
    failures: all.flatMap((c) => c.failures).slice(0, 10),
  });
  return {
    counts: () => sum(loads.map((load) => load.counts())),
    stop: async () => sum(await Promise.all(loads.map((load) => load.stop()))),
  };
}

/** The value at percentile `p` (nearest rank) of `values`, in whole milliseconds. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN);
}

/**
 * The shipped plan with a progressive rollout on the thoughts group: `steps`, judged every
 * second on the fleet's numbers, with gates any healthy service passes, the shadow's answers
 * included (these cases are about who steps, not whether).
 */
export function withRollout(steps: readonly number[]): (text: string) => string {
  return (text) =>
    text.replace(
      /^( {2}- name: thoughts\n(?: {4}.*\n)*? {4}fallback: legacy\n)/m,
      `$1    rollout: { steps: [${steps.join(', ')}], interval_seconds: 1, min_requests: 3, max_error_percent: 5, max_p95_ms: 5000, max_p95_ratio: 50, max_mismatch_percent: 100, min_comparisons: 0 }\n`,
    );
}

/** Steps that repeat one already written or skip one of `steps`: what a second controller writing beside the leader causes. */
export function stepAnomalies(written: readonly { action: string; percent: number }[], steps: readonly number[]): string[] {
  const anomalies: string[] = [];
  let at = -1;
  for (const { action, percent } of written) {
    if (action !== 'step') {
      anomalies.push(`a ${action} to ${percent} %`);
      continue;
    }
    const index = steps.indexOf(percent);
    if (index === at) anomalies.push(`step to ${percent} % written twice`);
    else if (index !== at + 1) anomalies.push(`step to ${percent} % after ${steps[at] ?? 'the start'} (skipped or out of order)`);
    at = Math.max(at, index);
  }
  return anomalies;
}

/** `probe` every 20 ms until it returns a value (not null), or null after `withinMs`. */
export async function firstValue<T>(probe: () => Promise<T | null>, withinMs: number): Promise<T | null> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    const value = await probe();
    if (value !== null || performance.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Polls `check` every 20 ms: the milliseconds from `since` until it held, or null after `withinMs`. */
export async function timeUntil(check: () => Promise<boolean>, since: number, withinMs: number): Promise<number | null> {
  for (;;) {
    if (await check()) return performance.now() - since;
    if (performance.now() - since > withinMs) return null;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

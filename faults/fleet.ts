import { cohortCookie } from '../gateway/test/helpers/cohort.ts';
import { LOAD_PATHS } from './case.ts';
import { startLoad, type Load, type LoadCounts } from './load.ts';
import type { GatewayProcess } from './stand.ts';

/**
 * What the fleet cases (a stand with `fleet`) ask of the replicas, through what an operator
 * uses: each replica's admin API (the plan version it serves, shifts), and the load spread over
 * them.
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

/** The load of the fault cases spread over `replicas` (as a balancer deals clients): each gets its share of the clients, each request a user of its own. */
export function startFleetLoad(replicas: readonly GatewayProcess[], clients: number, name: string): Load {
  const loads = replicas.map((replica, index) =>
    startLoad({
      baseUrl: replica.url,
      paths: LOAD_PATHS,
      clients: Math.max(1, Math.floor(clients / replicas.length) + (index < clients % replicas.length ? 1 : 0)),
      // A fresh cohort cookie with every request, as a balancer deals many users: each share gets
      // its part of the requests (a fixed cookie per client puts a handful of clients all on one
      // side, and a rollout's 5 % step may get none to judge).
      headers: (n, i) => ({ cookie: cohortCookie(`${name}-${index}-${n}-${i}`) }),
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

import type { Route } from '../config/routeTable.ts';
import { BUCKETS } from '../core/bucket.ts';
import { backendForBucket } from '../decide/chooseBackend.ts';

export interface MovedClients {
  readonly route: string;
  /** Distinct recent clients of the route's group. */
  readonly clients: number;
  /** Of those, how many the new split sends to another backend. */
  readonly moved: number;
  /** `legacy → thoughts: 12` */
  readonly flows: readonly { readonly from: string; readonly to: string; readonly clients: number }[];
}

/**
 * Replays recent clients' cohort buckets through the route's split before and after a
 * change, with the gateway's own bucket → backend function, and counts who changes side.
 * (Override headers and outlier ejection are per request and not part of the plan.)
 */
export function estimateMovedClients(before: Route, after: Route, buckets: readonly number[]): MovedClients {
  const flows = new Map<string, { from: string; to: string; clients: number }>();
  let moved = 0;
  for (const bucket of buckets) {
    const from = backendForBucket(before, bucket).name;
    const to = backendForBucket(after, bucket).name;
    if (from === to) continue;
    moved += 1;
    const key = `${from}\u0000${to}`;
    const flow = flows.get(key) ?? { from, to, clients: 0 };
    flow.clients += 1;
    flows.set(key, flow);
  }
  return { route: after.name, clients: buckets.length, moved, flows: [...flows.values()] };
}

/** Expected share of a group's clients that change side: buckets are uniform, so it is the buckets that change owner. */
export function expectedMovedShare(before: Route, after: Route): number {
  let moved = 0;
  for (let bucket = 0; bucket < BUCKETS; bucket++) if (backendForBucket(before, bucket).name !== backendForBucket(after, bucket).name) moved++;
  return moved / BUCKETS;
}

import type { IncomingHttpHeaders } from 'node:http';
import type { Backend, Route, RouteTable } from '../config/routeTable.ts';
import { chooseBackend, type Decision } from './chooseBackend.ts';
import { cohortKeyOf, type ClientProof } from './cohortKey.ts';
import type { OutlierDetector } from './outlierDetector.ts';
import type { OverrideGate } from './override.ts';

/**
 * Where one request goes and why: a read-only value made once, before forwarding. The
 * forwarder reads only `backend` (and asks fallbackFor about a failure); the response steps
 * and the observers read the rest.
 */
export interface RoutingDecision {
  readonly route: Route;
  readonly backend: Backend;
  readonly decision: Decision;
  /** The backend the client's cohort chose, taken out by outlier detection: its request counts against it (null: none). */
  readonly ejected: Backend | null;
  /**
   * The client's cohort key as read while deciding (null: none sent), kept so the traffic
   * window does not parse cookies or look up the token again; undefined: not read.
   */
  readonly cohortKey: string | null | undefined;
  /** `Set-Cookie` to add to the response (a newly issued, signed gw_cohort), or null. */
  readonly setCookie: string | null;
  /** Why an X-Gateway-Backend request was not honoured; null if none was made. */
  readonly overrideRefused: string | null;
}

/** Decides a forwarding route's request: a tester's proven override, else the client's cohort. */
export class Decider {
  private readonly isEjected: (backend: Backend) => boolean;

  constructor(
    private readonly overrides: OverrideGate,
    private readonly proof: ClientProof,
    outliers: OutlierDetector,
  ) {
    this.isEjected = outliers.isEjected.bind(outliers);
  }

  decide(table: RouteTable, route: Route, headers: IncomingHttpHeaders): RoutingDecision {
    const override = this.overrides.check(headers, route, table.testers);
    const overrideRefused = override?.kind === 'refused' ? override.reason : null;
    if (override?.kind === 'granted')
      return { route, backend: override.backend, decision: 'override', ejected: null, cohortKey: undefined, setCookie: null, overrideRefused };
    if (!route.needsCohort) {
      const choice = chooseBackend(route, null, this.isEjected);
      return { route, backend: choice.backend, decision: choice.decision, ejected: choice.ejected, cohortKey: undefined, setCookie: null, overrideRefused };
    }
    const keys = table.cohort.keys;
    const cohortKey = cohortKeyOf(keys, headers, this.proof);
    let setCookie: string | null = null;
    let key = cohortKey;
    if (key === null) {
      // A new client, or one whose gw_cohort is forged or unsigned: a newly issued cookie
      // replaces it. Without cookie:gw_cohort among the keys the id would not come back: the
      // client is then dealt afresh on each request (no stickiness), as such a file asks.
      const cookie = this.proof.cookies.issue();
      key = cookie.id;
      if (keys.some((k) => k.kind === 'cookie')) setCookie = cookie.header;
    }
    const choice = chooseBackend(route, key, this.isEjected);
    return { route, backend: choice.backend, decision: choice.decision, ejected: choice.ejected, cohortKey, setCookie, overrideRefused };
  }
}

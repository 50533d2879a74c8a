import type { Route } from '../config/routeTable.ts';
import { planLocation } from '../plan/planLocation.ts';
import type { PlanSnapshot } from '../plan/planStore.ts';
import { splitOf, type SplitPercents } from '../plan/splitPercents.ts';

export interface RouteView {
  readonly name: string;
  readonly group: string;
  readonly match: readonly string[];
  readonly methods: readonly string[] | null;
  /** Header conditions (name lower case → exact value); null when the route takes any headers. */
  readonly headers: Readonly<Record<string, string>> | null;
  /** The status a deny route answers with; null for a forwarding route. */
  readonly deny: number | null;
  /** Effective percent per backend (legacy included); null for a deny route. */
  readonly split: SplitPercents | null;
  readonly fallback: string | null;
}

export interface PlanView {
  readonly file: string;
  /** sha256 of the file's text: send it back as `expectVersion` to change only this plan. */
  readonly version: string;
  readonly salt: string;
  readonly backends: readonly { readonly name: string; readonly url: string; readonly legacy: boolean }[];
  readonly routes: readonly RouteView[];
}

/** The running plan as JSON (GET /api/plan): what routes.yaml says, as the gateway understood it. */
export function planView({ table, version }: PlanSnapshot): PlanView {
  return {
    file: planLocation(table.file),
    version,
    salt: table.cohort.salt,
    backends: table.backends.map((b) => ({ name: b.name, url: b.origin, legacy: b.legacy })),
    routes: table.routes.map(routeView),
  };
}

export function routeView(route: Route): RouteView {
  return {
    name: route.name,
    group: route.group,
    match: route.patterns.map((p) => p.text),
    methods: route.methods ? [...route.methods] : null,
    headers: route.headers ? Object.fromEntries(route.headers) : null,
    deny: route.deny,
    split: route.deny === null ? splitOf(route) : null,
    fallback: route.fallback?.name ?? null,
  };
}

import { closest } from '../config/problems.ts';
import type { Route, RouteTable } from '../config/routeTable.ts';
import { formatSplit, roundPercent, sameSplit, splitOf, type SplitPercents } from './splitPercents.ts';

/** What an operator asked for, from the CLI or the admin API. */
export type ChangeRequest =
  | { readonly kind: 'shift'; readonly route: string; readonly backend: string; readonly percent: number; readonly only: boolean }
  | { readonly kind: 'panic'; readonly route: string; readonly only: boolean }
  | { readonly kind: 'panic-all' };

/** One route's split before and after, effective percents (legacy included). */
export interface RouteChange {
  readonly route: string;
  readonly group: string;
  readonly before: SplitPercents;
  readonly after: SplitPercents;
}

export interface PlannedChange {
  readonly changes: readonly RouteChange[];
  /** Things the operator should know that do not stop the change. */
  readonly notes: readonly string[];
}

/** An operator's mistake: `status` is the HTTP status the admin API answers with. */
export interface Refusal {
  readonly status: 400 | 404 | 409 | 500 | 503;
  readonly message: string;
}

export type PlanResult = ({ readonly ok: true } & PlannedChange) | ({ readonly ok: false } & Refusal);

/**
 * Turns a request into per-route splits. Routes of one `group` share their cohort hash, so
 * a client is on the same side for all of them only while their numbers are equal: a shift
 * or panic therefore moves the WHOLE group (every route listed in the result), unless
 * `only` asks for the one route — then a note says the group's routes now differ.
 */
export function planChange(table: RouteTable, request: ChangeRequest): PlanResult {
  if (request.kind === 'panic-all') {
    const changes = table.routes.filter((r) => r.deny === null).map((route) => change(route, allLegacy(route)));
    return { ok: true, changes: changes.filter((c) => !sameSplit(c.before, c.after)), notes: [] };
  }
  const route = findRoute(table, request.route);
  if (!route.ok) return route;
  const target = route.value;
  if (target.deny !== null) {
    return refuse(400, `route ${target.name} answers ${target.deny} itself (deny): it forwards nothing, so it has no split to change`);
  }
  const members = request.only ? [target] : table.routes.filter((r) => r.group === target.group && r.deny === null);
  const notes: string[] = [];
  if (request.only && table.routes.some((r) => r !== target && r.group === target.group && r.deny === null)) {
    notes.push(
      `only ${target.name} changes: the other routes of group ${target.group} keep their split, so one client may be served by different sides on them`,
    );
  } else if (members.length > 1) {
    notes.push(`group ${target.group} moves together: ${members.map((r) => r.name).join(', ')}`);
  }

  if (request.kind === 'panic') return { ok: true, changes: members.map((r) => change(r, allLegacy(r))).filter((c) => !sameSplit(c.before, c.after)), notes };

  const backend = table.backend(request.backend);
  if (!backend) {
    const hint = closest(
      request.backend,
      table.backends.map((b) => b.name),
    );
    return refuse(
      400,
      `unknown backend '${request.backend}'${hint ? ` (did you mean '${hint}'?)` : ''}; backends: ${table.backends.map((b) => b.name).join(', ')}`,
    );
  }
  if (backend.legacy) {
    const example = target.slices[0]?.backend.name ?? table.backends.find((b) => !b.legacy)?.name ?? 'thoughts';
    return refuse(
      400,
      `${backend.name} is the legacy backend: it takes whatever the new backends leave; set a new backend's share instead, e.g. ${example}=${roundPercent(100 - request.percent)}`,
    );
  }
  const mixed = mixedBackends(members);
  if (mixed !== null) {
    return refuse(
      400,
      `the routes of group ${target.group} split to different new backends (${mixed}), so the group cannot move as one: shift ${target.name} alone with --only`,
    );
  }
  const changes: RouteChange[] = [];
  for (const member of members) {
    const before = splitOf(member);
    const others = Object.keys(before).filter((name) => name !== backend.name && name !== member.legacy.name);
    const newTotal = others.reduce((sum, name) => sum + before[name]!, request.percent);
    if (roundPercent(newTotal) > 100) {
      const parts = [...others.map((name) => `${name} ${before[name]}%`), `${backend.name} ${request.percent}%`].join(' + ');
      return refuse(
        400,
        `on route ${member.name} the new backends would add up to more than 100%: ${parts} = ${roundPercent(newTotal)}%; lower ${others.join(', ')} first`,
      );
    }
    if (!(backend.name in before) && others.length > 0) {
      notes.push(
        `route ${member.name} now splits to two new backends (${[...others, backend.name].join(', ')}): raising ${others[0]}'s share later also moves clients off ${backend.name}; one new backend per route is simpler`,
      );
    }
    const after: Record<string, number> = {};
    for (const name of Object.keys(before)) if (name !== member.legacy.name) after[name] = before[name]!;
    after[backend.name] = request.percent;
    after[member.legacy.name] = roundPercent(100 - newTotal);
    changes.push(change(member, inDeclarationOrder(table, after)));
  }
  const differing = new Set(members.map((m) => formatSplit(splitOf(m))));
  if (!request.only && differing.size > 1) notes.push(`the routes of group ${target.group} had different splits before; they now have the same`);
  return { ok: true, changes: changes.filter((c) => !sameSplit(c.before, c.after)), notes };
}

/** `a: users; b: thoughts` when routes name different sets of new backends (routes naming none fit any), else null. */
function mixedBackends(routes: readonly Route[]): string | null {
  const named = routes
    .map((route) => ({
      route: route.name,
      backends: Object.keys(splitOf(route))
        .filter((name) => name !== route.legacy.name)
        .join(', '),
    }))
    .filter((r) => r.backends !== '');
  return new Set(named.map((r) => r.backends)).size > 1 ? named.map((r) => `${r.route}: ${r.backends}`).join('; ') : null;
}

function findRoute(table: RouteTable, name: string): { ok: true; value: Route } | ({ ok: false } & Refusal) {
  const route = table.routes.find((r) => r.name === name);
  if (route) return { ok: true, value: route };
  const names = table.routes.map((r) => r.name);
  const hint = closest(name, names);
  return refuse(404, `unknown route '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}; routes: ${names.join(', ')}`);
}

/** Every new backend of the split at 0 (kept in the file, so the next shift has them), legacy 100. */
function allLegacy(route: Route): SplitPercents {
  return Object.fromEntries(route.shares.map((share) => [share.backend.name, share.backend.legacy ? 100 : 0]));
}

function change(route: Route, after: SplitPercents): RouteChange {
  return { route: route.name, group: route.group, before: splitOf(route), after };
}

/** New backends in declaration order, legacy last: the order splitOf() gives. */
function inDeclarationOrder(table: RouteTable, split: Record<string, number>): SplitPercents {
  const order = [...table.backends.filter((b) => !b.legacy), table.legacy];
  return Object.fromEntries(order.filter((b) => b.name in split).map((b) => [b.name, split[b.name]!]));
}

function refuse(status: Refusal['status'], message: string): { ok: false } & Refusal {
  return { ok: false, status, message };
}

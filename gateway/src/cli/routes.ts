import path from 'node:path';
import { ConfigError } from '@mythoughts/runtime/errors';
import type { LiveStats, RouteStats } from '../admin/liveStats.ts';
import { describeMatch, type Route } from '../config/routeTable.ts';
import { withPlanStore } from './planStoreFromEnv.ts';
import { formatShare, formatSplit, splitOf } from '../plan/splitPercents.ts';
import { AdminClient } from './adminClient.ts';
import { parseCommandArgs, type Command } from './command.ts';
import { table } from './textFormat.ts';

const HELP = `Usage: gateway routes [--file FILE]

Prints one line per route of the routes file: its match, its configured split, and from the
running gateway (its admin API) the share each backend really answered over the last
minutes, the requests per second, the share of 5xx answers, and the shadow comparisons that
found a difference. Without a reachable gateway the live columns show —, and the reason is
printed below the table.

  --file FILE      routes file (default: $GATEWAY_ROUTES, else <repo>/routes.yaml)

Environment: GATEWAY_ADMIN_URL (default http://127.0.0.1:9901), GATEWAY_ADMIN_TOKEN.`;

const NONE = '—';

export const routesCommand: Command = {
  name: 'routes',
  summary: 'table of routes: split, realised share, errors, shadow mismatches',
  help: HELP,
  async run(args) {
    const { values } = parseCommandArgs(args, HELP, { file: { type: 'string' } });
    if (values.help) return 0;
    const loaded = await withPlanStore(values.file, (store) => store.read());
    if (!loaded.ok) throw new ConfigError(loaded.message);
    const admin = AdminClient.fromEnv();
    const stats = await admin.get<LiveStats & { file?: string }>('/api/stats');
    const plan = await admin.get<{ file: string }>('/api/plan');

    const rows = loaded.table.routes.map((route) => row(route, stats.ok ? stats.value.routes.find((r) => r.name === route.name) : undefined));
    const header = ['ROUTE', 'MATCH', 'SPLIT', `REALISED${stats.ok ? ` (${windowText(stats.value.windowSeconds)})` : ''}`, 'REQ/S', '5XX', 'SHADOW MISMATCH'];
    process.stdout.write(`${table([header, ...rows]).join('\n')}\n`);
    if (!stats.ok) {
      process.stdout.write(`\nNo live numbers: ${stats.reason}.\n`);
    } else {
      const migrated = stats.value.migratedShare;
      process.stdout.write(
        `\nOn the new services: ${migrated === null ? `${NONE} (nothing forwarded yet)` : formatShare(migrated)} of forwarded requests, from ${admin.baseUrl}.\n`,
      );
      if (plan.ok && path.resolve(plan.value.file) !== path.resolve(loaded.table.file))
        process.stdout.write(
          `Note: that gateway runs ${plan.value.file}, not ${loaded.table.file}: the live columns are its numbers for routes of the same name.\n`,
        );
    }
    return 0;
  },
};

function row(route: Route, live: RouteStats | undefined): string[] {
  const match = describeMatch(route);
  if (route.deny !== null) return [route.name, match, `deny ${route.deny}`, NONE, live ? rate(live.requestsPerSecond) : NONE, NONE, NONE];
  const forwarded = live?.backends.filter((b) => b.share !== null && b.requests > 0) ?? [];
  const realised = forwarded.length === 0 ? NONE : forwarded.map((b) => `${b.backend} ${formatShare(b.share!)}`).join(', ');
  const requests = live?.backends.reduce((sum, b) => sum + (b.backend === 'none' ? 0 : b.requests), 0) ?? 0;
  const errors = live?.backends.reduce((sum, b) => sum + Math.round((b.errorRate ?? 0) * b.requests), 0) ?? 0;
  const shadowSeen = live ? live.shadow.match + live.shadow.mismatch + live.shadow.error + live.shadow.skipped > 0 : false;
  return [
    route.name,
    match,
    formatSplit(splitOf(route)),
    realised,
    live ? rate(live.requestsPerSecond) : NONE,
    live && requests > 0 ? `${formatShare(errors / requests)} (${errors})` : NONE,
    shadowSeen ? String(live!.shadow.mismatch) : live ? '0' : NONE,
  ];
}

function rate(perSecond: number): string {
  return perSecond >= 10 ? perSecond.toFixed(0) : perSecond.toFixed(2);
}

function windowText(seconds: number): string {
  return seconds >= 120 ? `last ${Math.round(seconds / 60)} min` : `last ${Math.round(seconds)} s`;
}

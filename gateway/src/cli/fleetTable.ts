import type { ReplicaStatus } from '../fleet/fleetStatus.ts';
import { clock, table } from './textFormat.ts';

/** What `gateway fleet` and a plan change on the etcd store say when the fleet is empty. */
export const NO_REPLICA = 'no live replica is registered under this prefix (none running, or they use another GATEWAY_PLAN_STORE)';

/**
 * The fleet's replicas as the terminal shows them (`gateway fleet`, and a plan change on the
 * etcd store waiting for the replicas): a header, one row per replica, and under a rejecting
 * replica its validation message, indented.
 */
export function replicaTable(replicas: readonly ReplicaStatus[]): string[] {
  const lines: string[] = [];
  const rows = [['REPLICA', 'ADMIN', 'VERSION', 'STATE', 'SINCE', 'UPTIME'], ...replicas.map(row)];
  for (const [i, line] of table(rows).entries()) {
    lines.push(line);
    const replica = replicas[i - 1];
    if (replica?.message) lines.push(...replica.message.split('\n').map((text) => `    ${text}`));
  }
  return lines;
}

function row(replica: ReplicaStatus): string[] {
  const store = replica.storeUp ? '' : ' (store down)';
  const draining = replica.draining ? ', draining' : '';
  return [
    replica.id,
    replica.adminUrl ?? '—',
    replica.version.slice(0, 12),
    `${replica.state}${draining}${store}`,
    since(replica.since),
    uptime(replica.uptimeSeconds),
  ];
}

/** The time of day when it is today (UTC), else the date too. */
function since(iso: string): string {
  return iso.slice(0, 10) === new Date().toISOString().slice(0, 10) ? clock(iso) : `${iso.slice(0, 10)} ${clock(iso)}`;
}

/** The two largest units: `3d04h`, `2h03m`, `5m02s`, `41s`. */
function uptime(seconds: number): string {
  const parts = [
    { value: Math.floor(seconds / 86_400), unit: 'd' },
    { value: Math.floor(seconds / 3_600) % 24, unit: 'h' },
    { value: Math.floor(seconds / 60) % 60, unit: 'm' },
    { value: seconds % 60, unit: 's' },
  ];
  const first = parts.findIndex((part) => part.value > 0);
  const start = first === -1 ? parts.length - 1 : first;
  return parts
    .slice(start, start + 2)
    .map((part, i) => `${i === 0 ? part.value : String(part.value).padStart(2, '0')}${part.unit}`)
    .join('');
}

import { ConfigError } from '@mythoughts/runtime/errors';
import type { EtcdConnection } from '../etcd/etcdConnection.ts';
import { awaitFleetVersion, type Convergence } from '../fleet/fleetConvergence.ts';
import { awaited } from '../fleet/fleetStatus.ts';
import { NO_REPLICA, replicaTable } from './fleetTable.ts';

/** How long a plan change waits, by default, for the gateways to run it: a replica runs a write within milliseconds, 5 s leaves room for a busy one. */
export const DEFAULT_WAIT_MS = 5_000;

/** The `--wait MS` option of the commands that change the plan, and its help line. */
export const WAIT_OPTION = { wait: { type: 'string' } } as const;
export const WAIT_OPTION_HELP = `  --wait MS        how long to wait for the gateways to run the change: every live replica
                   on the etcd store, the gateway at GATEWAY_ADMIN_URL on a routes file
                   (default ${DEFAULT_WAIT_MS}; 0: do not wait)`;

/** Exit status of a change that was written but not run by every live replica (a retry would not write it again: the fleet needs looking at). */
const NOT_CONFIRMED_EXIT = 3;

export function waitFrom(flag: string | undefined): number {
  if (flag === undefined) return DEFAULT_WAIT_MS;
  const ms = Number(flag);
  if (flag.trim() === '' || !Number.isInteger(ms) || ms < 0) throw new ConfigError(`--wait ${flag} is not a number of milliseconds`);
  return ms;
}

/** What the command prints (stdout) and, when the fleet does not run the change, why (stderr, exit NOT_CONFIRMED_EXIT). */
export interface Confirmation {
  readonly lines: readonly string[];
  readonly problem: string | null;
}

/**
 * Confirms a write on the etcd store through the fleet registry: waits (up to `waitMs`) until
 * every live replica serves `version`, then shows each replica as `gateway fleet` does. A
 * replica that rejected it or is still behind is a problem, named. One that left the fleet
 * meanwhile is named too but is no problem: the live replicas are the fleet, as for a
 * rollout step (a replica restarted during a shift must not fail it).
 */
export async function confirmOnFleet(etcd: EtcdConnection, version: string, waitMs: number): Promise<Confirmation> {
  const short = version.slice(0, 12);
  if (waitMs === 0) return { lines: [`Not waiting for the fleet (--wait 0): 'gateway fleet' shows which replicas serve version ${short}.`], problem: null };
  let fleet: Convergence;
  try {
    fleet = await awaitFleetVersion(etcd.keys, version, waitMs);
  } catch (error) {
    return {
      lines: [],
      problem: `the change is written, but the fleet's registrations could not be read from ${etcd.settings.display}: ${(error as Error).message}`,
    };
  }
  const { replicas } = fleet;
  const left = fleet.left.map(
    (id) => `${id}: left the fleet while waiting (stopped, or its lease expired: if it is frozen or cut off from etcd, it may still serve the old plan)`,
  );
  if (replicas.length === 0)
    return { lines: [`Version ${short} is in the store, and ${NO_REPLICA}: gateways started on it will serve it.`, ...left], problem: null };
  const serving = replicas.filter((replica) => replica.state === 'in sync').length;
  const seconds = `${waitMs / 1000} s`;
  // A draining replica (shutting down) was not waited for: the table shows it, it is no problem.
  const behind = replicas.filter((r) => r.state === 'behind' && awaited(r));
  const count = replicas.length === 1 ? '1 replica' : `${replicas.length} replicas`;
  const lines = [
    serving === replicas.length
      ? `Version ${short}: served by ${replicas.length === 1 ? 'the 1 replica' : `all ${count}`} of the fleet.`
      : `Version ${short}: served by ${serving} of ${count} of the fleet${behind.length > 0 ? ` after ${seconds}` : ''}.`,
  ];
  lines.push('', ...replicaTable(replicas), ...left);

  const moved = fleet.storeVersion !== version ? ` (the store holds version ${fleet.storeVersion?.slice(0, 12) ?? 'none'} now: another write followed)` : '';
  const problems = [
    ...replicas.filter((r) => r.state === 'rejected').map((r) => `${r.id} rejected it: ${firstProblem(r.message ?? '')}`),
    ...behind.map((r) => `${r.id} still serves version ${r.version.slice(0, 12)} after ${seconds}${moved}`),
  ];
  return {
    lines,
    problem: problems.length === 0 ? null : `version ${short} is written, but not every replica runs it: ${problems.join('; ')}. See 'gateway fleet'.`,
  };
}

/** Prints what the command says and the confirmation's lines; a problem goes to stderr. Returns the exit status. */
export function printConfirmation(out: readonly string[], confirmation: Confirmation): number {
  process.stdout.write(`${[...out, ...confirmation.lines].join('\n')}\n`);
  if (confirmation.problem === null) return 0;
  process.stderr.write(`gateway: ${confirmation.problem}\n`);
  return NOT_CONFIRMED_EXIT;
}

/** The first problem of a validation message ("X is not a valid routes file:" then one problem a line), and how many more its row shows. */
function firstProblem(message: string): string {
  const lines = message.split('\n');
  const problems = lines.length > 1 ? lines.slice(1) : lines;
  const more = problems.length - 1;
  return `${problems[0]!.trim()}${more > 0 ? ` (and ${more} more under its row)` : ''}`;
}

import { readFile } from 'node:fs/promises';
import { ConfigError } from '@mythoughts/runtime/errors';
import type { EtcdConnection } from '../etcd/etcdConnection.ts';
import type { PlanStore } from '../plan/planStore.ts';
import { parseCommandArgs, type Command } from './command.ts';
import { confirmOnFleet, DEFAULT_WAIT_MS, printConfirmation, WAIT_OPTION, waitFrom } from './fleetConfirm.ts';
import { withPlanStore } from './planStoreFromEnv.ts';
import { cliUser, describeChange } from './routesChange.ts';

const HELP = `Usage: gateway plan push FILE [--expect-version V] [--reason TEXT] [--by NAME] [--dry-run] [--wait MS]
       gateway plan show [--json]

The plan in the plan store: GATEWAY_PLAN_STORE (etcd://HOST:PORT/PREFIX), else the routes
file (GATEWAY_ROUTES, else <repo>/routes.yaml). This is how a pipeline applies the plan kept
in git: 'gateway plan push routes.yaml --expect-version <what it last saw>'.

  push FILE   validate FILE with the gateway's own validator, then replace the whole plan with
              it: one write with one audit entry per route whose split changes (action push;
              one for the plan when none does). An invalid FILE is refused naming FILE:line,
              the store unchanged. Every replica watching the store applies it; on the
              etcd store the command waits until every live replica serves it.
  show        print the plan text the store holds (its version on stderr)

Options:
  --expect-version V  (push) only if the store still holds version V (sha256 of the plan text,
                      as 'plan show' and GET /api/plan report it); else 409, nothing written
  --reason TEXT       (push) why, for the audit
  --by NAME           (push) who, for the audit (default: $USER)
  --dry-run           (push) validate and print the diff; write nothing
  --json              (show) {"store", "version", "text"} as JSON
  --wait MS           (push, etcd store) how long to wait for every live replica to serve
                      it (default ${DEFAULT_WAIT_MS}; 0: do not wait)

Exit status: 0 done (or nothing to change), 1 refused (invalid, moved on: 409, store
unreachable: 503), 2 usage, 3 pushed but not run by every live replica of the fleet (one
rejected it or stayed behind: each replica's line says which).`;

const OPTIONS = {
  'expect-version': { type: 'string' },
  reason: { type: 'string' },
  by: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  ...WAIT_OPTION,
} as const;

export const planCommand: Command = {
  name: 'plan',
  summary: 'push a whole plan to the plan store (validated, compare-and-write), or show it',
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, HELP, OPTIONS, true);
    if (values.help) return 0;
    const [sub, ...rest] = positionals;
    if (sub === 'show' && rest.length === 0) return withPlanStore(undefined, (store) => show(store, values.json === true));
    if (sub === 'push' && rest.length === 1) {
      const file = rest[0]!;
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        throw new ConfigError(`cannot read ${file}: ${(error as Error).message}`);
      }
      const waitMs = waitFrom(values.wait);
      return withPlanStore(undefined, (store, etcd) => push(store, etcd, file, text, values, waitMs));
    }
    throw new ConfigError(`plan takes 'push FILE' or 'show', got: ${positionals.join(' ') || 'nothing'}\n\n${HELP}`);
  },
};

async function show(store: PlanStore, json: boolean): Promise<number> {
  const read = await store.read();
  if (!read.ok) {
    process.stderr.write(`gateway: ${read.message}\n`);
    return 1;
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ store: store.location, version: read.version, text: read.text })}\n`);
  } else {
    process.stderr.write(`${store.location}: version ${read.version}\n`);
    process.stdout.write(read.text);
  }
  return 0;
}

async function push(
  store: PlanStore,
  etcd: EtcdConnection | null,
  file: string,
  text: string,
  flags: { readonly 'expect-version'?: string; readonly reason?: string; readonly by?: string; readonly 'dry-run'?: boolean },
  waitMs: number,
): Promise<number> {
  const dryRun = flags['dry-run'] === true;
  const expectVersion = flags['expect-version'];
  const result = await store.push(text, file, {
    who: cliUser(flags.by),
    via: 'cli',
    reason: flags.reason ?? null,
    dryRun,
    action: 'push',
    ...(expectVersion === undefined ? {} : { expectVersion }),
  });
  if (!result.ok) {
    process.stderr.write(`gateway: refused, ${store.location} is unchanged: ${result.message}\n`);
    return 1;
  }
  const out = [...result.notes.map((note) => `note: ${note}`), ...result.changes.map(describeChange)];
  if (dryRun) out.push(result.diff.trimEnd(), `Dry run: ${store.location} was not written.`);
  else if (result.applied) out.push(`Pushed ${file} to ${store.location}: version ${result.version}; recorded in ${store.auditLocation}.`);
  // Also when the store held this text already: a pipeline's retry of a push a replica rejected fails again rather than passing.
  // (A routes file has no fleet to ask: the gateways watching it pick it up.)
  if (!dryRun && etcd) return printConfirmation(out, await confirmOnFleet(etcd, result.version, waitMs));
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

import { ConfigError } from '@mythoughts/runtime/errors';
import { MARK, SIGN } from '../rollout/gates.ts';
import { ROLLOUT_COMMANDS, type RolloutCommand } from '../rollout/rolloutControl.ts';
import type { RolloutView } from '../rollout/rolloutView.ts';
import { AdminClient } from './adminClient.ts';
import { parseCommandArgs, type Command } from './command.ts';
import { runRolloutController } from './rolloutRun.ts';
import { clock } from './textFormat.ts';

const HELP = `Usage: gateway rollout status [ROUTE] [--json]
       gateway rollout pause|resume|promote|abort|restart ROUTE [--reason TEXT] [--by NAME]
       gateway rollout run

Progressive rollouts: routes with a rollout: block in routes.yaml move their group's new
backend step by step while its errors, latency and answers (the shadow comparison) hold,
and roll back when they do not.

  status [ROUTE]   step i of n, percent, state, time to the next check, each gate of the
                   last check (value vs threshold ✓ passed, ✗ failed, ? inconclusive) and
                   the last events; --json prints the admin API's answer
  pause ROUTE      hold where it is (no more checks) until resume or promote
  resume ROUTE     go on from the current percent to the next step above it
  promote ROUTE    the next step now, also past a pause step
  abort ROUTE      roll back now: the group's new share to 0
  restart ROUTE    a rolled-back or completed rollout starts again from the first step
  run              run the controller as a process of its own (see gateway rollout run --help)

Options:
  --json           (status) the JSON of the admin API
  --reason TEXT    why, for the audit log and the events
  --by NAME        who, for the audit log (default: $USER)

The commands talk to the process that runs the controller (the gateway, or 'gateway rollout
run'): GATEWAY_ADMIN_URL (default http://127.0.0.1:9901) and GATEWAY_ADMIN_TOKEN. On the
etcd store (GATEWAY_PLAN_STORE) any replica answers: the one elected leader runs the fleet's
controller, and the others pass the request on to it ("leader" in the status names it).
With etcd unreachable nothing can step or roll back: "holding" says so, and a replica that
cannot reach etcd shows the rollouts as it last saw them.`;

export const rolloutCommand: Command = {
  name: 'rollout',
  summary: 'progressive rollouts: status, pause, resume, promote, abort, restart, run',
  help: HELP,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === 'run') return runRolloutController(rest);
    const { values, positionals } = parseCommandArgs(args, HELP, { json: { type: 'boolean' }, reason: { type: 'string' }, by: { type: 'string' } }, true);
    if (values.help) return 0;
    const [command, route, ...extra] = positionals;
    if (command === undefined) throw new ConfigError(`rollout needs a command: status, ${ROLLOUT_COMMANDS.join(', ')} or run\n\n${HELP}`);
    if (extra.length > 0) throw new ConfigError(`rollout ${command} takes one route, got also ${extra.join(' ')}\n\n${HELP}`);
    const admin = AdminClient.fromEnv();
    if (command === 'status') return status(admin, route, values.json === true);
    if (!(ROLLOUT_COMMANDS as readonly string[]).includes(command)) {
      throw new ConfigError(`unknown rollout command '${command}': status, ${ROLLOUT_COMMANDS.join(', ')}, run\n\n${HELP}`);
    }
    if (route === undefined) throw new ConfigError(`rollout ${command} needs the route, e.g. gateway rollout ${command} thoughts`);
    const by = values.by || process.env.USER || 'cli';
    const reply = await admin.post<{ message: string; rollout: RolloutView }>(`/api/rollout/${encodeURIComponent(route)}/${command as RolloutCommand}`, {
      by,
      reason: values.reason ?? null,
    });
    if (!reply.ok) {
      process.stderr.write(`gateway: ${reply.reason}\n`);
      return 1;
    }
    process.stdout.write(`${reply.value.message}\n${formatRollout(reply.value.rollout).join('\n')}\n`);
    return 0;
  },
};

async function status(admin: AdminClient, route: string | undefined, json: boolean): Promise<number> {
  const reply =
    route === undefined
      ? await admin.get<{ rollouts: RolloutView[] }>('/api/rollout')
      : await admin.get<RolloutView>(`/api/rollout/${encodeURIComponent(route)}`);
  if (!reply.ok) {
    process.stderr.write(`gateway: ${reply.reason}\n`);
    return 1;
  }
  const rollouts = 'rollouts' in reply.value ? reply.value.rollouts : [reply.value];
  if (json) process.stdout.write(`${JSON.stringify(route === undefined ? reply.value : rollouts[0], null, 2)}\n`);
  else if (rollouts.length === 0) process.stdout.write('no rollout: no route of the running plan has a rollout: block\n');
  else process.stdout.write(`${rollouts.map((r) => formatRollout(r).join('\n')).join('\n\n')}\n`);
  return 0;
}

/** What `gateway rollout status` prints for one rollout. */
function formatRollout(view: RolloutView): string[] {
  const numbered = view.steps.map((step, i) => {
    const text = step === 'pause' ? 'pause' : `${step}%`;
    return i === view.stepIndex ? `[${text}]` : text;
  });
  const position = view.stepIndex < 0 ? `before step 1 of ${view.steps.length}` : `step ${view.stepIndex + 1} of ${view.steps.length}`;
  const next = view.nextCheckInSeconds === null ? 'no check due' : `next check in ${Math.ceil(view.nextCheckInSeconds)} s`;
  const lines = [
    `${view.route} (group ${view.group}) → ${view.backend}: ${view.status.replace('_', ' ')} at ${view.percent}%, ${position}, ${next}`,
    `  steps       ${numbered.join(' → ')}`,
    `  failures    ${view.failures} of ${view.failureLimit} in a row (then ${view.onFailure}); every ${view.intervalSeconds} s`,
  ];
  if (view.leader !== null) lines.push(`  leader      ${view.leader} (the fleet's rollout controller)`);
  if (view.holding !== null) lines.push(`  holding     ${view.holding}`);
  const check = view.lastCheck;
  if (check === null) lines.push('  last check  none yet');
  else {
    lines.push(`  last check  ${clock(check.time)} at ${check.percent}%: ${check.verdict}`);
    const width = Math.max(...check.gates.map((g) => g.gate.length));
    for (const gate of check.gates) {
      const value = `${gate.value ?? '–'} ${SIGN[gate.gate]} ${gate.threshold}`;
      lines.push(`    ${MARK[gate.verdict]} ${gate.gate.padEnd(width)}  ${value.padEnd(16)}  ${gate.why}`);
    }
  }
  if (view.events.length > 0) {
    lines.push('  last events');
    for (const event of view.events.slice(0, 5)) lines.push(`    ${clock(event.time)} ${event.event.padEnd(11)} ${event.from}% → ${event.to}%`);
  }
  return lines;
}

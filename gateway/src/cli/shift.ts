import { ConfigError } from '@mythoughts/runtime/errors';
import { parseShareArgument } from '../plan/splitPercents.ts';
import { parseCommandArgs, type Command } from './command.ts';
import { CHANGE_OPTIONS, CHANGE_OPTIONS_HELP, runChange } from './routesChange.ts';

const HELP = `Usage: gateway shift ROUTE BACKEND=PERCENT [--dry-run] [--reason TEXT] [--by NAME] [--only] [--file FILE]

Sets the share of clients a new backend gets on a route, e.g.

  gateway shift thoughts thoughts=25 --reason "canary clean for 2 days"

The legacy backend takes whatever is left. The route's whole group moves with it (routes
of one group share a client's side only while their numbers are equal); the output names
every route changed. Refused, with the file untouched: an unknown route or backend, the
legacy backend itself, a percent that is not a number, negative, above 100 or with more than
two decimals, and new backends adding up to more than 100.

Options:
${CHANGE_OPTIONS_HELP}`;

export const shiftCommand: Command = {
  name: 'shift',
  summary: "set a new backend's share on a route (and its group) in routes.yaml",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, HELP, CHANGE_OPTIONS, true);
    if (values.help) return 0;
    if (positionals.length !== 2)
      throw new ConfigError(`shift takes a route and BACKEND=PERCENT, got ${positionals.length} argument${positionals.length === 1 ? '' : 's'}\n\n${HELP}`);
    const share = parseShareArgument(positionals[1]!);
    if (!share.ok) throw new ConfigError(share.message);
    return runChange({ kind: 'shift', route: positionals[0]!, backend: share.value.backend, percent: share.value.percent, only: values.only === true }, values);
  },
};

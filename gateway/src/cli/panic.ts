import { ConfigError } from '@mythoughts/runtime/errors';
import { parseCommandArgs, type Command } from './command.ts';
import { CHANGE_OPTIONS, CHANGE_OPTIONS_HELP, runChange } from './routesChange.ts';

const HELP = `Usage: gateway panic ROUTE | --all [--reason TEXT] [--by NAME] [--dry-run] [--only] [--file FILE]

Sends everything back to the legacy backend at once: every new backend of the route's split
(and of its group's routes), or of every route with --all, is set to 0. The backends stay
named in the file, so the way back up is a plain 'gateway shift'. Clients that had moved
return to legacy; nobody else changes side.

Options:
  --all            every route
${CHANGE_OPTIONS_HELP}`;

export const panicCommand: Command = {
  name: 'panic',
  summary: 'send a route (and its group), or --all, back to legacy',
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, HELP, { ...CHANGE_OPTIONS, all: { type: 'boolean' } }, true);
    if (values.help) return 0;
    if (values.all === true && positionals.length > 0) throw new ConfigError(`panic takes a route OR --all, not both\n\n${HELP}`);
    if (values.all !== true && positionals.length !== 1) throw new ConfigError(`panic needs one route, or --all for every route\n\n${HELP}`);
    return runChange(values.all === true ? { kind: 'panic-all' } : { kind: 'panic', route: positionals[0]!, only: values.only === true }, values);
  },
};

import { ConfigError } from '@mythoughts/runtime/errors';
import { formatProblem } from '../config/problems.ts';
import { routesFileFrom } from '../env.ts';
import { FilePlanStore } from '../plan/filePlanStore.ts';
import { parseCommandArgs, type Command } from './command.ts';

const HELP = `Usage: gateway validate [file]

Checks a routes file (default: $GATEWAY_ROUTES, else <repo>/routes.yaml) without starting
anything. Prints each problem as file:line: field: message and exits 1, or prints OK and
what it protects (\`protect:\`, default /admin/** and /metrics: no request under them may
reach a back end) and one line per route, and exits 0.`;

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check a routes file, print its problems or its plan',
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, HELP, {}, true);
    if (values.help) return 0;
    if (positionals.length > 1) throw new ConfigError(`validate takes at most one file, got ${positionals.length}`);
    const file = routesFileFrom(positionals[0]);
    const result = await new FilePlanStore({ file }).read();
    if (!result.ok) {
      for (const problem of result.problems) process.stdout.write(`${formatProblem(problem)}\n`);
      process.stdout.write(`${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${file}\n`);
      return 1;
    }
    process.stdout.write(`OK ${file}\n`);
    const protect = result.table.protect.map((p) => p.text);
    process.stdout.write(`  protected: ${protect.length > 0 ? protect.join(', ') : 'nothing (protect: [])'}\n`);
    for (const line of result.table.summary()) process.stdout.write(`  ${line}\n`);
    return 0;
  },
};

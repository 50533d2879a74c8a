import { runMain } from '@mythoughts/runtime/errors';
import type { Command } from './cli/command.ts';
import { compareCommand } from './cli/compare.ts';
import { fleetCommand } from './cli/fleet.ts';
import { mismatchesCommand } from './cli/mismatches.ts';
import { overrideTokenCommand } from './cli/overrideToken.ts';
import { panicCommand } from './cli/panic.ts';
import { planCommand } from './cli/plan.ts';
import { replayCommand } from './cli/replay.ts';
import { rolloutCommand } from './cli/rollout.ts';
import { routesCommand } from './cli/routes.ts';
import { schemaCommand } from './cli/schema.ts';
import { serveCommand } from './cli/serve.ts';
import { shiftCommand } from './cli/shift.ts';
import { validateCommand } from './cli/validate.ts';

/** Every `gateway` command; each lives in its own file under cli/. */
const COMMANDS: readonly Command[] = [
  serveCommand,
  validateCommand,
  routesCommand,
  shiftCommand,
  panicCommand,
  planCommand,
  rolloutCommand,
  fleetCommand,
  compareCommand,
  mismatchesCommand,
  replayCommand,
  overrideTokenCommand,
  schemaCommand,
];

const USAGE = `Usage: gateway <command> [options]

A strangler-fig migration gateway: routes each request to the legacy monolith or a new
service as routes.yaml says.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(18)} ${c.summary}`).join('\n')}

Run 'gateway <command> --help' for details.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command) return command.run(rest);
  process.stderr.write(`gateway: unknown command '${name}'\n\n${USAGE}\n`);
  return 2;
}

runMain('gateway', async () => {
  const code = await main(process.argv.slice(2));
  // Let the async logger flush: exit on the next turn rather than in the middle of a write.
  process.exitCode = code;
});

import { parseArgs } from 'node:util';
import { ConfigError, runMain } from '@mythoughts/shared/errors';
import { loadRouteTable } from './config/loadRouteTable.ts';
import { formatProblem } from './config/problems.ts';
import { DEFAULT_ROUTES_FILE, ENVIRONMENT_HELP, optionsFromEnv } from './env.ts';
import { startGateway } from './gateway.ts';

const USAGE = `Usage: gateway <command> [options]

The MyThoughts migration gateway: routes each request to the legacy monolith or a new
service as routes.yaml says.

Commands:
  serve              run the gateway (configured by environment variables)
  validate [file]    check a routes file, print its problems or its plan

Run 'gateway <command> --help' for details.`;

const SERVE_HELP = `Usage: gateway serve

Runs the gateway: public port (8080), admin port (9901, 127.0.0.1). Re-reads the routes
file when it changes and on SIGHUP; SIGTERM/SIGINT finish in-flight requests and exit 0.

${ENVIRONMENT_HELP}`;

const VALIDATE_HELP = `Usage: gateway validate [file]

Checks a routes file (default: $GATEWAY_ROUTES, else <repo>/routes.yaml) without starting
anything. Prints each problem as file:line: field: message and exits 1, or prints OK and
one line per route and exits 0.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === 'validate') return validate(rest);
  if (command === 'serve') return serve(rest);
  process.stderr.write(`gateway: unknown command '${command}'\n\n${USAGE}\n`);
  return 2;
}

async function validate(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, VALIDATE_HELP, true);
  if (values.help) return 0;
  if (positionals.length > 1) throw new ConfigError(`validate takes at most one file, got ${positionals.length}`);
  const file = positionals[0] ?? (process.env.GATEWAY_ROUTES || DEFAULT_ROUTES_FILE);
  const result = await loadRouteTable(file);
  if (!result.ok) {
    for (const problem of result.problems) process.stdout.write(`${formatProblem(problem)}\n`);
    process.stdout.write(`${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${file}\n`);
    return 1;
  }
  process.stdout.write(`OK ${file}\n`);
  for (const line of result.table.summary()) process.stdout.write(`  ${line}\n`);
  return 0;
}

async function serve(args: string[]): Promise<number> {
  const { values } = parse(args, SERVE_HELP, false);
  if (values.help) return 0;
  const gateway = await startGateway(optionsFromEnv(process.env));
  process.on('SIGHUP', () => {
    gateway.logger.info('SIGHUP: re-reading the routes file');
    void gateway.reload();
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      gateway.logger.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await gateway.close();
  return 0;
}

function parse(args: string[], help: string, allowPositionals: boolean) {
  try {
    const parsed = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals });
    if (parsed.values.help) process.stdout.write(`${help}\n`);
    return parsed;
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n\n${help}`);
  }
}

runMain('gateway', async () => {
  const code = await main(process.argv.slice(2));
  // Let the async logger flush: exit on the next turn rather than in the middle of a write.
  process.exitCode = code;
});

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '@mythoughts/runtime/errors';

/** One `gateway <name>` command: its help text and what it does; returns the exit code. */
export interface Command {
  name: string;
  /** One line for the command list of `gateway --help`. */
  summary: string;
  /** The whole text of `gateway <name> --help`. */
  help: string;
  run(args: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** What parseArgs gives back for a command's options and --help (named, so the type declarations can say it). */
type ParsedCommandArgs<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & { help: { type: 'boolean'; short: 'h' } }; allowPositionals: boolean; strict: true }>
>;

/**
 * Parses a command's arguments; `--help` prints the help and sets `values.help`. A bad
 * argument is a ConfigError carrying the help text, so the user sees what is allowed.
 */
export function parseCommandArgs<O extends Options>(args: string[], help: string, options: O, allowPositionals = false): ParsedCommandArgs<O> {
  try {
    const parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    if ((parsed.values as { help?: boolean }).help) process.stdout.write(`${help}\n`);
    return parsed;
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n\n${help}`);
  }
}

/**
 * Runs a command whose exit 1 is a finding (compare, replay: "different"): a usage,
 * configuration or set-up problem (a ConfigError) is its message on stderr and exit 2, so
 * that 1 always means what the command found.
 */
export async function exitTwoOnConfigError(name: string, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`gateway ${name}: ${error.message}\n`);
    return 2;
  }
}

/**
 * An expected failure with a message a person can act on (bad configuration, an unreachable
 * database, a port in use). Entry points print `message` on one line and exit 1, without a
 * stack trace; anything that is not a ConfigError is a bug and keeps its stack.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Runs a process's main function, turning expected failures into a one-line message. */
export function runMain(processName: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${processName}: ${error.message}\n`);
    } else {
      process.stderr.write(`${processName}: unexpected failure\n${(error as Error)?.stack ?? String(error)}\n`);
    }
    process.exit(1);
  });
}

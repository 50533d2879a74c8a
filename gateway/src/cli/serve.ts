import { ENVIRONMENT_HELP, optionsFromEnv } from '../env.ts';
import { startGateway } from '../gateway.ts';
import { parseCommandArgs, type Command } from './command.ts';

const HELP = `Usage: gateway serve

Runs the gateway: public port (8080), admin port (9901, 127.0.0.1). Re-reads the routes
file when it changes and on SIGHUP; SIGTERM/SIGINT finish in-flight requests and exit 0.

${ENVIRONMENT_HELP}`;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the gateway (configured by environment variables)',
  help: HELP,
  async run(args) {
    const { values } = parseCommandArgs(args, HELP, {});
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
  },
};

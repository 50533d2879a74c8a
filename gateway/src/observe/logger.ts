import { REDACTED_PATHS } from '@mythoughts/runtime/http/redaction';
import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * The gateway's logger: JSON lines written asynchronously (a synchronous write per request
 * costs 10-20 % of throughput), pretty only for a person at a terminal.
 */
export function createGatewayLogger(destination?: DestinationStream): Logger {
  const options = { name: 'gateway', level: process.env.LOG_LEVEL || 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  if (destination) return pino(options, destination);
  if (process.stdout.isTTY) return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
  return pino(options, pino.destination({ dest: 1, sync: false }));
}

import type { Server } from 'node:http';
import type { Logger } from 'pino';

/**
 * Stops a server gracefully: no new connections, idle keep-alive connections closed now,
 * busy ones closed as their response ends (the caller answers with `Connection: close`
 * meanwhile), and whatever is still open after `timeoutMs` cut, so shutdown is bounded.
 */
export async function drain(server: Server, timeoutMs: number, logger: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), timeoutMs)));
  if ((await Promise.race([closed, expired])) === 'expired') {
    logger.warn({ timeoutMs }, 'shutdown timeout: cutting the connections still open');
    server.closeAllConnections();
    await closed;
  }
  clearTimeout(timer);
}

/** Closes a server and every connection at once (the admin port: nothing there to finish). */
export function closeNow(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}

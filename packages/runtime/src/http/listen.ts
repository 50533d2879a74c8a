import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../errors.ts';

export interface ListenOptions {
  port: number;
  host: string;
  /** The variable that sets the port, named in the message when the port is taken. */
  portVariable: string;
}

/**
 * Starts listening and resolves with the port (the one the system chose for port 0); a port
 * in use or not allowed becomes a one-line ConfigError naming the port and its variable.
 */
export function listen(server: Server, { port, host, portVariable }: ListenOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE')
        reject(new ConfigError(`port ${port} on ${host} is already in use: stop the other process or set ${portVariable} to another port`));
      else if (error.code === 'EACCES') reject(new ConfigError(`not allowed to listen on port ${port}: set ${portVariable} to a port above 1023`));
      else reject(error);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** `http://host:port`, with a connectable host for wildcard binds. */
export function urlOf(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

/** Stops accepting connections and resolves once open ones have finished (bounded). */
export function closeGracefully(server: Server, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, timeoutMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

import type { Server } from 'node:http';
import type { Express } from 'express';
import { ConfigError } from '../errors.ts';

export interface ListenOptions {
  port: number;
  host: string;
  /** The variable that sets the port, named in the message when the port is taken. */
  portVariable: string;
}

/** Starts listening; a port in use becomes a one-line ConfigError naming the port and its variable. */
export function listen(app: Express, { port, host, portVariable }: ListenOptions): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new ConfigError(`port ${port} on ${host} is already in use: stop the other process or set ${portVariable} to another port`));
      } else if (error.code === 'EACCES') {
        reject(new ConfigError(`not allowed to listen on port ${port}: set ${portVariable} to a port above 1023`));
      } else {
        reject(error);
      }
    });
  });
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

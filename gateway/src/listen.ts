import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '@mythoughts/shared/errors';

/** Starts listening; a taken or forbidden port becomes a one-line ConfigError naming its variable. */
export function listen(server: Server, port: number, host: string, portVariable: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new ConfigError(`port ${port} on ${host} is already in use: stop the other process or set ${portVariable} to another port`));
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

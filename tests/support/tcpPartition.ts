import { connect, createServer, type Socket } from 'node:net';
import { freePort } from './ports.ts';

/**
 * A TCP forwarder on a free loopback port to `target` (HOST:PORT) that can cut the network:
 * `cut()` resets every connection through it and refuses new ones, `heal()` lets them through
 * again. A partition between one client and a server that stays up (others still reach it).
 */
export interface TcpPartition {
  /** `127.0.0.1:PORT`, to connect to instead of the target. */
  readonly endpoint: string;
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startTcpPartition(target: string): Promise<TcpPartition> {
  const [host, port] = target.split(':') as [string, string];
  const sockets = new Set<Socket>();
  let open = true;
  const server = createServer((client) => {
    if (!open) return void client.resetAndDestroy();
    const upstream = connect(Number(port), host);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.pipe(to);
      from.on('error', () => to.destroy()); // a reset on one side ends the other
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
      });
    }
  });
  const listenPort = await freePort();
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  return {
    endpoint: `127.0.0.1:${listenPort}`,
    cut() {
      open = false;
      for (const socket of sockets) socket.resetAndDestroy();
    },
    heal() {
      open = true;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

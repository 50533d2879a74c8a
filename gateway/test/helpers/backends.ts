import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Behaviour = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface TestBackend {
  name: string;
  url: string;
  port: number;
  /** Every request that reached this back end, in arrival order. */
  seen: Seen[];
  /** What the back end does; replace it to make it fail. Default: answers 200 JSON. */
  behaviour: Behaviour;
  close(): Promise<void>;
}

/** Answers `{"backend": name, "path": url}` with 200, like a healthy service. */
export function answerOk(name: string): Behaviour {
  return (req, res) => {
    const body = JSON.stringify({ backend: name, path: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
    res.end(body);
  };
}

/**
 * A real HTTP back end on 127.0.0.1:<free port>. Its keep-alive timeout is longer than the
 * gateway agent's idle timeout, as for the real services (Node's default is 5 s).
 */
export async function startBackend(name: string, behaviour?: Behaviour): Promise<TestBackend> {
  const backend: Partial<TestBackend> & { seen: Seen[] } = { name, seen: [], behaviour: behaviour ?? answerOk(name) };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      backend.seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      backend.behaviour!(req, res, body);
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(backend, {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as TestBackend;
}

/** A port with nothing listening on it (connection refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

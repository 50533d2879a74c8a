import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { relay } from './reversedThoughts.ts';

/** How the stand-in answers: as the real service, 503 to everything, the real answer with every `text` altered, or late. */
export type StandInMode = { mode: 'transparent' } | { mode: 'unavailable' } | { mode: 'altered' } | { mode: 'slow'; delayMs: number };

export interface StandIn {
  url: string;
  /** Requests answered so far (the control endpoint excluded). */
  served(): number;
  /** Switches the behaviour, as `POST /__stand-in` with the mode as JSON does. */
  set(mode: StandInMode): Promise<void>;
  close(): Promise<void>;
}

/**
 * A controllable stand-in for the new thoughts service: by default a transparent relay to
 * the real one; switched over HTTP (`POST /__stand-in {"mode": "unavailable"}`) to fail,
 * to answer 200 with different data, or to answer slowly — what a rollout must notice.
 */
export async function startStandIn(thoughtsUrl: string): Promise<StandIn> {
  let current: StandInMode = { mode: 'transparent' };
  let served = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === '/__stand-in' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        current = JSON.parse(Buffer.concat(chunks).toString('utf8')) as StandInMode;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(current));
      });
      return;
    }
    served += 1;
    const mode = current;
    if (mode.mode === 'unavailable') {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"stand-in: unavailable"}');
      return;
    }
    const answer = () =>
      relay(thoughtsUrl, req, res, mode.mode === 'altered' ? alterTexts : (value) => value).catch((error: Error) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `stand-in: ${error.message}` }));
      });
    if (mode.mode === 'slow') setTimeout(answer, mode.delayMs);
    else void answer();
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    served: () => served,
    async set(mode) {
      const reply = await fetch(`${url}/__stand-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(mode) });
      if (!reply.ok) throw new Error(`stand-in refused ${JSON.stringify(mode)}: ${reply.status}`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Every `text` field, at any depth, with a word added: a 200 that answers wrongly. */
function alterTexts(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(alterTexts);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, key === 'text' && typeof inner === 'string' ? `${inner} (rewritten)` : alterTexts(inner)]),
  );
}

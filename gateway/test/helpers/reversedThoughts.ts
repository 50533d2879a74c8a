import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const PASSED_ON = ['authorization', 'content-type', 'accept', 'x-request-id'];
const NOT_RETURNED = new Set(['content-length', 'connection', 'keep-alive', 'transfer-encoding']);

/**
 * A deliberately wrong thoughts service: the real one behind a wrapper that serves every
 * JSON list newest first instead of by id ascending. Everything else is the real service's
 * answer, so a comparison against it must find exactly the order.
 */
export async function startReversedThoughts(thoughtsUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    relay(thoughtsUrl, req, res, (value) => (Array.isArray(value) ? value.reverse() : value)).catch((error: Error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `reversed thoughts wrapper: ${error.message}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Passes a request on to the real service and its answer back, with JSON bodies through `alter`. */
export async function relay(thoughtsUrl: string, req: IncomingMessage, res: ServerResponse, alter: (value: unknown) => unknown): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers: Record<string, string> = {};
  for (const name of PASSED_ON) if (typeof req.headers[name] === 'string') headers[name] = req.headers[name];
  const upstream = await fetch(`${thoughtsUrl}${req.url}`, {
    method: req.method,
    headers,
    body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    redirect: 'manual',
  });
  let body = Buffer.from(await upstream.arrayBuffer());
  if ((upstream.headers.get('content-type') ?? '').includes('json') && body.length > 0) {
    const value: unknown = JSON.parse(body.toString('utf8'));
    body = Buffer.from(JSON.stringify(alter(value)));
  }
  const answer: Record<string, string> = {};
  upstream.headers.forEach((value, name) => {
    if (!NOT_RETURNED.has(name)) answer[name] = value;
  });
  res.writeHead(upstream.status, answer).end(req.method === 'HEAD' ? undefined : body);
}

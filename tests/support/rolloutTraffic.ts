import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { send } from '../../gateway/test/helpers/http.ts';
import { cohortCookie } from '../../gateway/test/helpers/cohort.ts';

/** Reads of the thoughts API that the monolith and the real thoughts service answer alike. */
const PATHS = ['/api/thoughts/', '/api/thoughts/1/', '/api/thoughts/?search=few', '/api/thoughts/2/'];

export interface Traffic {
  /** Answers so far by status. */
  readonly statuses: Map<number, number>;
  sent(): number;
  fiveHundreds(): number;
  stop(): Promise<void>;
}

export interface TrafficOptions {
  concurrency?: number;
  clients?: number;
  pauseMs?: number;
  /** Every request on a new connection, so a cluster primary deals them out to its workers in turn. */
  newConnections?: boolean;
  /** A request with no answer this long counts as failed (status 0) instead of holding its client. */
  timeoutMs?: number;
}

/**
 * Clients (distinct gw_cohort cookies, so the split shows) reading the thoughts API through
 * `gatewayUrls` in turn, `concurrency` at a time, until stopped.
 */
export function startTraffic(gatewayUrls: readonly string[], options: TrafficOptions = {}): Traffic {
  const statuses = new Map<number, number>();
  let stopped = false;
  let sent = 0;
  const clients = options.clients ?? 2000;
  const worker = async (id: number) => {
    for (let i = id; !stopped; i += options.concurrency ?? 4) {
      const url = `${gatewayUrls[i % gatewayUrls.length]}${PATHS[i % PATHS.length]}`;
      try {
        const cookie = cohortCookie(`rollout-${i % clients}`);
        const reply = await send(url, { headers: options.newConnections ? { cookie, connection: 'close' } : { cookie }, timeoutMs: options.timeoutMs });
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      } catch {
        statuses.set(0, (statuses.get(0) ?? 0) + 1); // no answer at all: counted as status 0, which every test asserts on
      }
      sent += 1;
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  const workers = Array.from({ length: options.concurrency ?? 4 }, (_, id) => worker(id));
  return {
    statuses,
    sent: () => sent,
    fiveHundreds: () => [...statuses].filter(([status]) => status >= 500 || status === 0).reduce((sum, [, n]) => sum + n, 0),
    async stop() {
      stopped = true;
      await Promise.all(workers);
    },
  };
}

/** A real HTTP receiver for the rollout's webhooks: keeps every JSON body POSTed to it, answers `status`. */
export interface HookReceiver {
  readonly url: string;
  readonly received: Record<string, unknown>[];
  status: number;
  close(): Promise<void>;
}

export async function startHookReceiver(): Promise<HookReceiver> {
  const receiver = { received: [] as Record<string, unknown>[], status: 204 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (receiver.status < 300)
        receiver.received.push({
          ...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>),
          contentType: req.headers['content-type'],
        });
      res.writeHead(receiver.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** Polls `probe` until it returns a value (bounded); the error names what was awaited and the last value seen. */
export async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

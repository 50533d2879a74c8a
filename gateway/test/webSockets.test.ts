import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { scrape, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { send } from './helpers/http.ts';
import { cohortCookie } from './helpers/cohort.ts';
import { routesYaml, sample } from './helpers/routes.ts';

/** A back end that answers HTTP with its name and echoes WebSocket messages prefixed with it. */
interface EchoBackend {
  readonly name: string;
  readonly url: string;
  /** Upgrade requests that reached it: their path and headers. */
  readonly upgrades: { url: string; headers: Record<string, string | string[] | undefined> }[];
  close(): Promise<void>;
}

async function startEchoBackend(name: string): Promise<EchoBackend> {
  const server: Server = createServer((req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: name, path: req.url })),
  );
  const wss = new WebSocketServer({ server });
  const upgrades: EchoBackend['upgrades'] = [];
  wss.on('connection', (socket, req) => {
    upgrades.push({ url: req.url!, headers: req.headers });
    socket.on('message', (data) => socket.send(`${name}:${data.toString()}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    upgrades,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Opens a WebSocket through the gateway and resolves once it is open. */
function connect(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    socket.once('error', reject);
  });
}

/** Sends one message and waits for its echo. */
function echo(socket: WebSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('message', (data) => resolve(data.toString()));
    socket.once('error', reject);
    socket.send(text);
  });
}

let legacy: EchoBackend;
let live: EchoBackend;
let gateway: TestGateway;

const plan = (livePercent: number) =>
  routesYaml(
    { legacy: legacy.url, live: live.url },
    `  - { name: hidden, match: { path: /ws/admin/** }, deny: 404 }
  - { name: live, match: { path: /ws/** }, split: { live: ${livePercent} }, fallback: legacy }
  - { name: site, match: { path: /** }, split: {} }`,
    'cohort: { keys: [cookie:gw_cohort] }',
  );

beforeAll(async () => {
  [legacy, live] = await Promise.all([startEchoBackend('legacy'), startEchoBackend('live')]);
  gateway = await startTestGateway(plan(50));
});

afterAll(async () => {
  await gateway.stop();
  await Promise.all([legacy.close(), live.close()]);
});

const wsUrl = (path: string) => `${gateway.url.replace('http://', 'ws://')}${path}`;

describe('WebSockets through the gateway', () => {
  it('follow the split by cohort, on both sides, as plain requests of the same client do', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const cookie = cohortCookie(`client-${i}`);
      const http = await send(`${gateway.url}/ws/feed/`, { headers: { cookie } });
      const socket = await connect(wsUrl('/ws/feed/?room=1'), { cookie });
      const reply = await echo(socket, `hello ${i}`);
      socket.close();
      const side = http.json<{ backend: string }>().backend;
      expect(reply).toBe(`${side}:hello ${i}`);
      seen.add(side);
    }
    expect([...seen].sort()).toEqual(['legacy', 'live']);
    // The back end got the normalised path with its query, the request id and X-Forwarded-For.
    const last = [...legacy.upgrades, ...live.upgrades].at(-1)!;
    expect(last.url).toBe('/ws/feed/?room=1');
    expect(last.headers['x-request-id']).toEqual(expect.any(String));
    expect(last.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('are denied like any request on a denied path, and counted per route and backend', async () => {
    await expect(connect(wsUrl('/ws/admin/console'))).rejects.toThrow(/HTTP 404/);
    const metrics = await scrape(gateway);
    const upgraded = (backend: string) => metrics.get(sample('gateway_websocket_upgrades_total', { route: 'live', backend, result: 'upgraded' })) ?? 0;
    expect(upgraded('legacy') + upgraded('live')).toBe(24);
    expect(upgraded('legacy')).toBeGreaterThan(0);
    expect(upgraded('live')).toBeGreaterThan(0);
  });

  it('honour a tester override like plain requests (a refused one is routed by cohort)', async () => {
    const secretless = await connect(wsUrl('/ws/feed/'), { cookie: cohortCookie('client-0'), 'x-gateway-backend': 'live' });
    const reply = await echo(secretless, 'x');
    secretless.close();
    const http = await send(`${gateway.url}/ws/feed/`, { headers: { cookie: cohortCookie('client-0') } });
    // No override secret on this gateway and no tester: the header is refused, the cohort decides.
    expect(reply).toBe(`${http.json<{ backend: string }>().backend}:x`);
    expect(live.upgrades.at(-1)?.headers['x-gateway-backend']).toBeUndefined();
    expect(legacy.upgrades.at(-1)?.headers['x-gateway-backend']).toBeUndefined();
  });

  it('stay open across a reload that moves their side; new connections follow the new plan', async () => {
    // Find a client on the live side, open its socket, then move every client to legacy.
    let cookie = '';
    for (let i = 0; cookie === '' && i < 50; i++) {
      const reply = await send(`${gateway.url}/ws/feed/`, { headers: { cookie: cohortCookie(`mover-${i}`) } });
      if (reply.json<{ backend: string }>().backend === 'live') cookie = cohortCookie(`mover-${i}`);
    }
    const socket = await connect(wsUrl('/ws/feed/'), { cookie });
    expect(await echo(socket, 'before')).toBe('live:before');
    const before = gateway.table();
    gateway.rewrite(plan(0));
    for (let i = 0; i < 100 && gateway.table() === before; i++) await new Promise((resolve) => setTimeout(resolve, 30));
    expect(gateway.table()).not.toBe(before);
    expect(await echo(socket, 'after')).toBe('live:after');
    const fresh = await connect(wsUrl('/ws/feed/'), { cookie });
    expect(await echo(fresh, 'new')).toBe('legacy:new');
    expect((await scrape(gateway)).get(sample('gateway_websocket_connections', { route: 'live', backend: 'live' }))).toBe(1);
    socket.close();
    fresh.close();
    gateway.rewrite(plan(50));
  });
});

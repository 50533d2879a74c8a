import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { startGatewayProcess } from './gatewayProcess.ts';
import { freePort } from './processes.ts';

export interface WebSocketResult {
  readonly connections: number;
  readonly messagesEach: number;
  readonly echoed: number;
  readonly lost: number;
  readonly failedConnections: number;
  readonly seconds: number;
}

/**
 * `connections` WebSockets opened at once through a real gateway child to a `ws` echo server,
 * each sending `messagesEach` messages one after the other and waiting for every echo; what
 * did not come back is lost. The echo server and the clients run in the bench process.
 */
export async function runWebSockets(tmpParent: string, connections: number, messagesEach: number, log: (line: string) => void): Promise<WebSocketResult> {
  const dir = mkdtempSync(path.join(tmpParent, 'ws-'));
  const http = createServer((_req, res) => res.end('{}'));
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (socket) => socket.on('message', (data) => socket.send(data)));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const echoUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const routesFile = path.join(dir, 'routes.yaml');
  writeFileSync(
    routesFile,
    `backends:\n  legacy: { url: ${echoUrl}, legacy: true }\nroutes:\n  - { name: admin, match: { path: /admin/** }, deny: 404 }\n  - { name: metrics, match: { path: /metrics }, deny: 404 }\n  - { name: ws, match: { path: /** }, split: {} }\n`,
  );
  const gateway = await startGatewayProcess({
    name: 'gateway-ws',
    port: await freePort(),
    adminPort: await freePort(),
    routesFile,
    tmpDir: dir,
    env: { GATEWAY_ACCESS_LOG: path.join(dir, 'access.log') },
    probePath: '/',
  });
  log(`websockets: ${connections} connections × ${messagesEach} messages through the gateway`);
  const started = performance.now();
  let echoed = 0;
  let failedConnections = 0;
  const one = async (i: number) => {
    const socket = new WebSocket(`ws://127.0.0.1:${gateway.port}/chat/${i}`);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
    } catch {
      failedConnections += 1;
      return;
    }
    for (let m = 0; m < messagesEach; m++) {
      const text = `client ${i} message ${m}`;
      const back = await new Promise<string | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), 10_000);
        socket.once('message', (data) => {
          clearTimeout(timer);
          resolve(data.toString());
        });
        socket.send(text);
      });
      if (back === text) echoed += 1;
    }
    socket.close();
  };
  try {
    await Promise.all(Array.from({ length: connections }, (_, i) => one(i)));
  } finally {
    await gateway.stop();
    for (const client of wss.clients) client.terminate();
    wss.close();
    http.closeAllConnections();
    http.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  return { connections, messagesEach, echoed, lost: connections * messagesEach - echoed, failedConnections, seconds };
}

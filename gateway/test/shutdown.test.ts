import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './helpers/backends.ts';
import { send } from './helpers/http.ts';
import { routesYaml } from './helpers/routes.ts';

const BIN = fileURLToPath(new URL('../bin/gateway.mjs', import.meta.url));

let backend: TestBackend;
/** Requests that reached the back end and wait for `release`. */
const waiting: (() => void)[] = [];

beforeAll(async () => {
  backend = await startBackend('legacy', (req, res) => {
    const answer = () => res.writeHead(200, { 'content-type': 'text/plain' }).end('finished');
    if (req.url === '/slow/' || req.url === '/stuck/') waiting.push(answer);
    else answer();
  });
});

afterAll(async () => {
  await backend.close();
});

interface Running {
  child: ChildProcess;
  url: string;
  adminUrl: string;
  exited: Promise<number | null>;
}

/** Runs `gateway serve` as its own process (signals are per process) and waits for its URL. */
async function serve(env: Record<string, string> = {}): Promise<Running> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gateway-shutdown-'));
  const routes = path.join(dir, 'routes.yaml');
  writeFileSync(routes, routesYaml({ legacy: backend.url }, '  - { name: site, match: { path: /** }, split: {} }'));
  const childEnv: NodeJS.ProcessEnv = { ...process.env, GATEWAY_ROUTES: routes, GATEWAY_PORT: '0', GATEWAY_HOST: '127.0.0.1', GATEWAY_ADMIN_PORT: '0', ...env };
  delete childEnv.JWT_PUBLIC_KEY_FILE;
  const child = spawn(process.execPath, [BIN, 'serve'], { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const [url, adminUrl] = await new Promise<[string, string]>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)","adminUrl":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(buffered);
      if (match) resolve([match[1]!, match[2]!]);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}) before listening`)));
  });
  return { child, url, adminUrl, exited };
}

async function reachedBackend(count: number): Promise<void> {
  while (waiting.length < count) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('graceful shutdown', () => {
  it('on SIGTERM stops accepting, finishes the in-flight request, and exits 0', async () => {
    const gateway = await serve();
    const inFlight = send(`${gateway.url}/slow/`);
    await reachedBackend(1);
    gateway.child.kill('SIGTERM');
    // New connections are refused once the listener is closed (one the kernel had queued in the
    // backlog at the moment it closed is reset instead, at connect or at the first read of the
    // answer: either way, no new request is answered).
    await expect(async () => {
      for (let i = 0; i < 100; i++) {
        await send(`${gateway.url}/new/`, { headers: { connection: 'close' } });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }).rejects.toThrow(/ECONNREFUSED|ECONNRESET/);
    waiting.shift()!();
    const reply = await inFlight;
    expect([reply.status, reply.body]).toEqual([200, 'finished']);
    expect(await gateway.exited).toBe(0);
  });

  it('gives up on requests still running after GATEWAY_SHUTDOWN_TIMEOUT_MS and still exits 0', async () => {
    const gateway = await serve({ GATEWAY_SHUTDOWN_TIMEOUT_MS: '300' });
    const stuck = send(`${gateway.url}/stuck/`).then(
      () => 'answered',
      () => 'cut',
    );
    await reachedBackend(1);
    gateway.child.kill('SIGINT');
    expect(await gateway.exited).toBe(0);
    expect(await stuck).toBe('cut');
    waiting.shift()!();
  });

  it('on SIGTERM turns /readyz 503 first and keeps serving for GATEWAY_DRAIN_DELAY_MS, then closes the listener', async () => {
    const gateway = await serve({ GATEWAY_DRAIN_DELAY_MS: '1500' });
    expect((await send(`${gateway.adminUrl}/readyz`)).json()).toEqual({ status: 'ready' });
    gateway.child.kill('SIGTERM');
    let ready = await send(`${gateway.adminUrl}/readyz`);
    for (let i = 0; i < 50 && ready.status === 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      ready = await send(`${gateway.adminUrl}/readyz`);
    }
    expect([ready.status, ready.json()]).toEqual([503, { status: 'not ready', reason: 'shutting down' }]);
    // Alive, and still answering on the public port, with `Connection: close` so clients reconnect elsewhere.
    expect((await send(`${gateway.adminUrl}/livez`)).status).toBe(200);
    const during = await send(`${gateway.url}/during-delay/`);
    expect([during.status, during.body, during.headers.connection]).toEqual([200, 'finished', 'close']);
    // Then the listener closes: refused, or reset for a connection queued in the backlog as it closed.
    await expect(async () => {
      for (let i = 0; i < 200; i++) {
        await send(`${gateway.url}/new/`, { headers: { connection: 'close' } });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }).rejects.toThrow(/ECONNREFUSED|ECONNRESET/);
    expect(await gateway.exited).toBe(0);
  });
});

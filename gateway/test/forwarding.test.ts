import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerOk, closedPort, startBackend, type TestBackend } from './helpers/backends.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { send } from './helpers/http.ts';
import { routesYaml } from './helpers/routes.ts';

let legacy: TestBackend;
let slow: TestBackend;
let gateway: TestGateway;
let refusedUrl: string;

beforeAll(async () => {
  legacy = await startBackend('legacy');
  slow = await startBackend('slow', () => {
    /* never answers */
  });
  refusedUrl = `http://127.0.0.1:${await closedPort()}`;
  gateway = await startTestGateway(
    routesYaml(
      { legacy: legacy.url, slow: slow.url, gone: refusedUrl },
      `  - { name: slow, match: { path: /slow/** }, split: { slow: 100 } }
  - { name: gone, match: { path: /gone/** }, split: { gone: 100 } }
  - { name: site, match: { path: /** }, split: {} }`,
      '',
      { slow: 'response_timeout_ms: 300' },
    ),
  );
});

afterAll(async () => {
  await gateway.stop();
  await Promise.all([legacy.close(), slow.close()]);
});

function lastSeen(backend: TestBackend) {
  return backend.seen[backend.seen.length - 1]!;
}

describe('forwarding', () => {
  it('sets X-Forwarded-For/-Proto/-Host itself and drops the ones the client sent', async () => {
    const reply = await send(`${gateway.url}/thoughts/`, {
      headers: {
        host: 'mythoughts.example',
        'x-forwarded-for': '6.6.6.6',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil.example',
        forwarded: 'for=6.6.6.6',
        'x-forwarded-port': '1',
      },
    });
    expect(reply.status).toBe(200);
    const headers = lastSeen(legacy).headers;
    expect([headers['x-forwarded-for'], headers['x-forwarded-proto'], headers['x-forwarded-host']]).toEqual(['127.0.0.1', 'http', 'mythoughts.example']);
    expect(headers.forwarded).toBeUndefined();
    expect(headers['x-forwarded-port']).toBeUndefined();
    expect(headers.host).toBe('mythoughts.example');
  });

  it('strips hop-by-hop headers in both directions, including those named in Connection', async () => {
    legacy.behaviour = (_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        connection: 'keep-alive, x-upstream-secret',
        'keep-alive': 'timeout=5',
        'x-upstream-secret': 's',
        'proxy-authenticate': 'Basic',
        'x-kept': 'yes',
      });
      res.end('ok');
    };
    try {
      const reply = await send(`${gateway.url}/hop/`, {
        headers: {
          connection: 'keep-alive, x-client-hop',
          'x-client-hop': '1',
          'keep-alive': 'timeout=9',
          te: 'trailers',
          'proxy-authorization': 'Basic eA==',
          'proxy-connection': 'keep-alive',
          'x-end-to-end': 'kept',
        },
      });
      const upstream = lastSeen(legacy).headers;
      for (const name of ['x-client-hop', 'keep-alive', 'te', 'proxy-authorization', 'proxy-connection']) expect(upstream[name], name).toBeUndefined();
      expect(upstream['x-end-to-end']).toBe('kept');
      expect(reply.headers['x-upstream-secret']).toBeUndefined();
      expect(reply.headers['proxy-authenticate']).toBeUndefined();
      expect(reply.headers['keep-alive']).not.toBe('timeout=5');
      expect(reply.headers['x-kept']).toBe('yes');
      expect(reply.body).toBe('ok');
    } finally {
      legacy.behaviour = answerOk('legacy');
    }
  });

  it('propagates the client X-Request-ID to the back end and the response', async () => {
    const reply = await send(`${gateway.url}/x/`, { headers: { 'x-request-id': 'req-12345' } });
    expect(lastSeen(legacy).headers['x-request-id']).toBe('req-12345');
    expect(reply.headers['x-request-id']).toBe('req-12345');
  });

  it('generates an X-Request-ID (uuid) when the client sent none, the same upstream and downstream', async () => {
    const reply = await send(`${gateway.url}/x/`);
    const id = lastSeen(legacy).headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(reply.headers['x-request-id']).toBe(id);
  });

  it('forwards the normalised path with the query string untouched', async () => {
    await send(`${gateway.url}//api/./thoughts/%7Euser/../?search=a%2Fb&x=%41`);
    expect(lastSeen(legacy).url).toBe('/api/thoughts/?search=a%2Fb&x=%41');
  });

  it('streams a request body to the back end before the client has finished sending it', async () => {
    let firstChunkArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (firstChunkArrived = resolve));
    const upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
        firstChunkArrived();
      });
      req.on('end', () => res.end(`got ${body}`));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const gw = await startTestGateway(
      routesYaml({ legacy: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` }, '  - { name: site, match: { path: /** }, split: {} }'),
    );
    try {
      const answer = new Promise<string>((resolve, reject) => {
        const req = request(`${gw.url}/upload/`, { method: 'POST', headers: { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' } }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.write('first-');
        // The rest is sent only once the back end holds the first part: a buffering proxy would never answer.
        void arrived.then(() => req.end('second'));
      });
      expect(await answer).toBe('got first-second');
    } finally {
      await gw.stop();
      upstream.closeAllConnections();
      upstream.close();
    }
  });

  it('answers 504 with a JSON message when the back end does not answer in time', async () => {
    const started = Date.now();
    const reply = await send(`${gateway.url}/slow/x`, { headers: { 'x-request-id': 'slow-1' } });
    expect(reply.status).toBe(504);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.headers['x-request-id']).toBe('slow-1');
    expect(reply.json().message).toMatch(/did not answer in time/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('answers 502 with a JSON message when the back end refuses the connection and there is no fallback', async () => {
    const reply = await send(`${gateway.url}/gone/x`);
    expect(reply.status).toBe(502);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(typeof reply.json().message).toBe('string');
    expect(reply.headers['x-request-id']).toBeTruthy();
  });

  it('cuts the client response when the back end dies mid-body, instead of leaving it hanging', async () => {
    legacy.behaviour = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 50);
    };
    try {
      await expect(send(`${gateway.url}/partial/`)).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
    } finally {
      legacy.behaviour = answerOk('legacy');
    }
  });
});

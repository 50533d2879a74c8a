import { request } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { answerOk, closedPort, startBackend, type TestBackend } from './helpers/backends.ts';
import { scrape, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { send } from './helpers/http.ts';
import { routesYaml, sample } from './helpers/routes.ts';

let legacy: TestBackend;
let thoughts: TestBackend;
let downUrl: string;
let gateway: TestGateway;

const ROUTES = `  - { name: down, match: { path: /down/** }, split: { down: 100 }, fallback: legacy }
  - { name: api, match: { path: /api/** }, split: { thoughts: 100 }, fallback: legacy }
  - { name: no-fallback, match: { path: /plain/** }, split: { thoughts: 100 } }
  - { name: site, match: { path: /** }, split: {} }`;

beforeAll(async () => {
  [legacy, thoughts] = await Promise.all([startBackend('legacy'), startBackend('thoughts')]);
  downUrl = `http://127.0.0.1:${await closedPort()}`;
  gateway = await startTestGateway(
    routesYaml(
      { legacy: legacy.url, thoughts: thoughts.url, down: downUrl },
      ROUTES,
      'outlier: { consecutive_failures: 0 }\nreplay: { max_body_bytes: 1024 }',
      {
        thoughts: 'response_timeout_ms: 300',
      },
    ),
  );
});

afterAll(async () => {
  await gateway.stop();
  await Promise.all([legacy.close(), thoughts.close()]);
});

beforeEach(() => {
  legacy.seen.length = 0;
  thoughts.seen.length = 0;
  thoughts.behaviour = answerOk('thoughts');
});

const failures: Record<string, (res: import('node:http').ServerResponse) => void> = {
  reset: (res) => res.socket!.destroy(),
  timeout: () => {
    /* never answers */
  },
  '502': (res) => res.writeHead(502).end('bad gateway'),
  '503': (res) => res.writeHead(503).end('unavailable'),
  '504': (res) => res.writeHead(504).end('timeout'),
};

describe('fallback to legacy', () => {
  it('serves a GET from legacy when the new backend refuses the connection', async () => {
    const before = await scrape(gateway);
    const reply = await send(`${gateway.url}/down/thoughts/`);
    expect(reply.status).toBe(200);
    expect(reply.json().backend).toBe('legacy');
    const after = await scrape(gateway);
    const refused = sample('gateway_upstream_errors_total', { backend: 'down', reason: 'refused' });
    expect((after.get(refused) ?? 0) - (before.get(refused) ?? 0)).toBe(1);
    const served = sample('gateway_requests_total', { route: 'down', backend: 'legacy', decision: 'fallback', code: '2xx' });
    expect((after.get(served) ?? 0) - (before.get(served) ?? 0)).toBe(1);
  });

  it.each(Object.keys(failures))('serves a GET from legacy when the new backend fails with: %s', async (kind) => {
    thoughts.behaviour = (_req, res) => failures[kind]!(res);
    const reply = await send(`${gateway.url}/api/thoughts/?search=x`, { headers: { 'x-request-id': `fb-${kind}` } });
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ backend: 'legacy', path: '/api/thoughts/?search=x' });
    expect(thoughts.seen).toHaveLength(1);
    expect(legacy.seen.map((s) => s.headers['x-request-id'])).toEqual([`fb-${kind}`]);
  });

  it('replays a small POST on legacy when it never reached the refusing backend, body intact', async () => {
    const body = JSON.stringify({ text: 'hello from a client' });
    const reply = await send(`${gateway.url}/down/me/thoughts/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(reply.status).toBe(200);
    expect(legacy.seen).toHaveLength(1);
    expect(legacy.seen[0]!.body).toBe(body);
    expect(legacy.seen[0]!.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  });

  it('answers 502 JSON to a POST whose connection was reset after it reached the backend (no replay)', async () => {
    thoughts.behaviour = (_req, res) => res.socket!.destroy();
    const reply = await send(`${gateway.url}/api/me/thoughts/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"x"}' });
    expect(reply.status).toBe(502);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.json().message).toMatch(/Bad gateway/);
    expect(thoughts.seen).toHaveLength(1);
    expect(legacy.seen).toHaveLength(0);
  });

  it("passes the backend's own 503 to a POST it received (no replay of a request that reached it)", async () => {
    thoughts.behaviour = (_req, res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
    const reply = await send(`${gateway.url}/api/me/thoughts/`, {
      method: 'POST',
      body: 'text=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect([reply.status, reply.body]).toEqual([503, 'unavailable']);
    expect(legacy.seen).toHaveLength(0);
  });

  it('answers 502 JSON to a POST whose body is over the replay cap, even though it never reached the backend', async () => {
    const reply = await send(`${gateway.url}/down/me/thoughts/`, { method: 'POST', body: 'x'.repeat(2048), headers: { 'content-type': 'text/plain' } });
    expect(reply.status).toBe(502);
    expect(reply.json().message).toMatch(/Bad gateway/);
    expect(legacy.seen).toHaveLength(0);
  });

  it('answers 502 JSON to a chunked POST (length unknown, so not buffered for replay)', async () => {
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${gateway.url}/down/me/thoughts/`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.write('text=');
      req.end('chunked');
    });
    expect(reply.status).toBe(502);
    expect(legacy.seen).toHaveLength(0);
  });

  it('does not retry a route without a fallback', async () => {
    thoughts.behaviour = (_req, res) => res.writeHead(503).end('unavailable');
    const reply = await send(`${gateway.url}/plain/x`);
    expect(reply.status).toBe(503);
    expect(legacy.seen).toHaveLength(0);
  });
});

describe('outlier ejection', () => {
  let ejecting: TestGateway;

  beforeAll(async () => {
    ejecting = await startTestGateway(
      routesYaml(
        { legacy: legacy.url, thoughts: thoughts.url },
        '  - { name: api, match: { path: /api/** }, split: { thoughts: 100 }, fallback: legacy }',
        'outlier: { consecutive_failures: 3, cooldown_seconds: 1 }',
      ),
    );
  });

  afterAll(async () => {
    await ejecting.stop();
  });

  it('takes a backend out of the split after consecutive failures, counts it, and brings it back after the cool-down', async () => {
    thoughts.behaviour = (_req, res) => res.writeHead(503).end('unavailable');
    for (let i = 0; i < 3; i++) expect((await send(`${ejecting.url}/api/thoughts/`)).json().backend).toBe('legacy');
    expect(thoughts.seen).toHaveLength(3);

    for (let i = 0; i < 5; i++) expect((await send(`${ejecting.url}/api/thoughts/`)).json().backend).toBe('legacy');
    expect(thoughts.seen).toHaveLength(3); // ejected: not even tried
    const metrics = await scrape(ejecting);
    expect(metrics.get(sample('gateway_backend_ejections_total', { backend: 'thoughts' }))).toBe(1);
    expect(metrics.get(sample('gateway_requests_total', { route: 'api', backend: 'legacy', decision: 'fallback', code: '2xx' }))).toBe(8);
    expect(metrics.get(sample('gateway_upstream_errors_total', { backend: 'thoughts', reason: '5xx' }))).toBe(3);

    thoughts.behaviour = answerOk('thoughts');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await send(`${ejecting.url}/api/thoughts/`)).json().backend).toBe('thoughts');
  });
});

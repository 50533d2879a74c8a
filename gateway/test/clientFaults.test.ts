import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { answerOk, closedPort, startBackend, type TestBackend } from './helpers/backends.ts';
import { scrape, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { send, sendRaw } from './helpers/http.ts';
import { routesYaml, sample } from './helpers/routes.ts';
import { SLOW_CLIENTS } from '../../faults/corpora/slowClients.ts';

let legacy: TestBackend;
let thoughts: TestBackend;
let refusedUrl: string;
let gateway: TestGateway;
let dir: string;
let accessFile: string;

// The new backend's response timeout (200 ms) is shorter than the client-body timeout (400 ms):
// were a slow body timed against the back end, it would fail and be ejected first.
const ROUTES = (refused: string) =>
  routesYaml(
    { legacy: legacy.url, thoughts: thoughts.url, gone: refused },
    `  - { name: api, match: { path: /api/** }, split: { thoughts: 100 }, fallback: legacy }
  - { name: plain, match: { path: /plain/** }, split: { thoughts: 100 } }
  - { name: gone, match: { path: /gone/** }, split: { gone: 100 } }
  - { name: site, match: { path: /** }, split: {} }`,
    'outlier: { consecutive_failures: 3, cooldown_seconds: 30 }\ntimeouts: { client_body_ms: 400 }',
    { thoughts: 'response_timeout_ms: 200' },
  );

beforeAll(async () => {
  [legacy, thoughts] = await Promise.all([startBackend('legacy'), startBackend('thoughts')]);
  refusedUrl = `http://127.0.0.1:${await closedPort()}`;
  dir = mkdtempSync(path.join(tmpdir(), 'gateway-client-faults-'));
  accessFile = path.join(dir, 'access.jsonl');
  gateway = await startTestGateway(ROUTES(refusedUrl), { accessLog: accessFile });
});

afterAll(async () => {
  await gateway.stop();
  await Promise.all([legacy.close(), thoughts.close()]);
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  thoughts.behaviour = answerOk('thoughts');
  legacy.seen.length = 0;
  thoughts.seen.length = 0;
});

describe('slow client bodies', () => {
  it('answer 408 on their own timeout and never count against the back end: five slow POSTs of each kind, zero ejections', async () => {
    const before = await scrape(gateway);
    const kinds = Object.values(SLOW_CLIENTS);
    const replies = await Promise.all(kinds.flatMap((slowClient) => Array.from({ length: 5 }, () => slowClient(`${gateway.url}/api/me/thoughts/`))));
    for (const reply of replies) {
      expect(reply.status).toBe(408);
      expect(JSON.parse(reply.body).message).toMatch(/request body did not arrive within 400 ms/);
    }
    const after = await scrape(gateway);
    const delta = (name: string, labels: Record<string, string>) => (after.get(sample(name, labels)) ?? 0) - (before.get(sample(name, labels)) ?? 0);
    expect(delta('gateway_backend_ejections_total', { backend: 'thoughts' })).toBe(0);
    for (const reason of ['refused', 'reset', 'timeout', '5xx'])
      expect(delta('gateway_upstream_errors_total', { backend: 'thoughts', reason }), reason).toBe(0);
    // Counted as the route's 4xx answers; a body of known length (buffered for replay) times out before any back end gets it.
    const answered4xx = (metrics: Map<string, number>) =>
      [...metrics]
        .filter(([key]) => key.startsWith('gateway_requests_total{') && key.includes('route="api"') && key.includes('code="4xx"'))
        .reduce((sum, [, v]) => sum + v, 0);
    expect(answered4xx(after) - answered4xx(before)).toBe(5 * kinds.length);
    // The new backend is still in the split: the next client is served by it.
    const next = await send(`${gateway.url}/api/thoughts/`);
    expect(next.json().backend).toBe('thoughts');
  });

  it('still time the back end from the end of the body: a complete body to a silent back end is 504 after its response timeout', async () => {
    thoughts.behaviour = () => {
      /* never answers */
    };
    const reply = await send(`${gateway.url}/plain/x`, { method: 'POST', body: 'text=x', headers: { 'content-type': 'text/plain' } });
    expect(reply.status).toBe(504);
    expect(reply.json().message).toMatch(/did not answer in time/);
  });
});

describe('error answers that say what happened', () => {
  it('answers 431 to a header block over the limit, not 400', async () => {
    const reply = await sendRaw(gateway.port, '/api/thoughts/', `X-Huge: ${'a'.repeat(20_000)}\r\n`);
    expect(reply.status).toBe(431);
    expect(JSON.parse(reply.body).message).toMatch(/header fields too large/i);
  });

  it('answers a POST that reached the back end and then lost its connection with 502 "outcome unknown", not "could not be reached"', async () => {
    thoughts.behaviour = (_req, res) => res.socket!.destroy();
    const reply = await send(`${gateway.url}/plain/me/thoughts/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"text":"stored, then cut"}',
    });
    expect(reply.status).toBe(502);
    expect(reply.json().message).toMatch(/received this POST but lost the connection before answering; the outcome is unknown/);
    expect(reply.json().message).not.toMatch(/could not be reached/);
    // The back end did get it (and may have stored it): exactly once, no blind retry.
    expect(thoughts.seen.map((s) => s.body)).toEqual(['{"text":"stored, then cut"}']);
    expect(legacy.seen).toHaveLength(0);
  });

  it('still says "could not be reached" when the connection was refused', async () => {
    const reply = await send(`${gateway.url}/gone/me/thoughts/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"x"}' });
    expect(reply.status).toBe(502);
    expect(reply.json().message).toMatch(/could not be reached/);
  });
});

describe('access log and query strings', () => {
  it('writes the path and the query with the values of secret parameters redacted, to the real log file', async () => {
    const reply = await send(`${gateway.url}/api/login/?username=bruce&password=hunter2&access_token=tok-s3cr3t&search=few`, {
      method: 'POST',
      headers: { 'x-request-id': 'query-1' },
    });
    expect(reply.status).toBe(200);
    // The back end still gets the query untouched: the monolith's clients send credentials there.
    expect(thoughts.seen[0]!.url).toBe('/api/login/?username=bruce&password=hunter2&access_token=tok-s3cr3t&search=few');
    let line: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && line === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      if (!existsSync(accessFile)) continue;
      line = readFileSync(accessFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((text) => JSON.parse(text) as Record<string, unknown>)
        .find((entry) => entry.reqId === 'query-1');
    }
    expect(line).toMatchObject({
      msg: 'request',
      path: '/api/login/',
      query: '?username=bruce&password=[redacted]&access_token=[redacted]&search=few',
      status: 200,
    });
    const text = readFileSync(accessFile, 'utf8');
    for (const secret of ['hunter2', 'tok-s3cr3t']) expect(text).not.toContain(secret);
  });
});

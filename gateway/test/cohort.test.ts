import { generateKeyPairSync, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRouteTable } from '../src/config/compileRouteTable.ts';
import type { RouteTable } from '../src/config/routeTable.ts';
import { chooseBackend } from '../src/decide/chooseBackend.ts';
import { startBackend, type TestBackend } from './helpers/backends.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { send } from './helpers/http.ts';
import { routesYaml } from './helpers/routes.ts';

const URLS = { legacy: 'http://127.0.0.1:8001', users: 'http://127.0.0.1:8002', thoughts: 'http://127.0.0.1:8003' };

function tableWith(thoughtsPercent: number, salt = '2026-11'): RouteTable {
  const text = routesYaml(URLS, `  - { name: thoughts, match: { path: /api/thoughts/** }, split: { thoughts: ${thoughtsPercent} } }`, `cohort: { salt: "${salt}" }`);
  const result = compileRouteTable(text, 'routes.yaml');
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.table;
}

/** The backend a client with cohort key `key` gets for GET /api/thoughts/ under `table`. */
function backendFor(table: RouteTable, key: string): string {
  const route = table.match('/api/thoughts/', 'GET', {})!;
  return chooseBackend(route, key, () => false).backend.name;
}

const clients = Array.from({ length: 10_000 }, () => randomUUID());

describe('cohort assignment', () => {
  it.each([1, 10, 25, 50, 75, 90])('over 10 000 distinct clients, the realised share of a %i %% split is within ±2 points', (percent) => {
    const table = tableWith(percent);
    const onNew = clients.filter((key) => backendFor(table, key) === 'thoughts').length;
    expect(Math.abs((onNew / clients.length) * 100 - percent)).toBeLessThanOrEqual(2);
  });

  it('gives the same client the same backend every time while the weights stay', () => {
    const table = tableWith(50);
    for (const key of clients.slice(0, 500)) {
      const first = backendFor(table, key);
      for (let i = 0; i < 3; i++) expect(backendFor(table, key)).toBe(first);
    }
  });

  it('raising the new backend\'s weight only moves clients from legacy to it (and lowering only back)', () => {
    const weights = [0, 5, 10, 25, 50, 75, 100];
    const assignments = weights.map((w) => {
      const table = tableWith(w);
      return clients.map((key) => backendFor(table, key));
    });
    for (let step = 1; step < weights.length; step++) {
      const moved = clients.filter((_, i) => assignments[step - 1]![i] !== assignments[step]![i]);
      expect(moved.length).toBeGreaterThan(0);
      for (let i = 0; i < clients.length; i++) {
        if (assignments[step - 1]![i] === 'thoughts') expect(assignments[step]![i]).toBe('thoughts');
      }
    }
  });

  it('two RouteTable instances compiled from the same file decide identically', () => {
    const a = tableWith(37);
    const b = tableWith(37);
    expect(a).not.toBe(b);
    expect(clients.map((key) => backendFor(a, key))).toEqual(clients.map((key) => backendFor(b, key)));
  });

  it('a new salt re-deals clients', () => {
    const a = tableWith(50, 'one');
    const b = tableWith(50, 'two');
    const differ = clients.filter((key) => backendFor(a, key) !== backendFor(b, key)).length;
    expect(differ / clients.length).toBeGreaterThan(0.3);
  });
});

describe('cohort keys over HTTP', () => {
  let legacy: TestBackend;
  let thoughts: TestBackend;
  let first: TestGateway;
  let second: TestGateway;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const forger = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const token = (username: string, key = privateKey) => jwt.sign({ username }, key, { algorithm: 'RS256', expiresIn: '2d' });

  beforeAll(async () => {
    [legacy, thoughts] = await Promise.all([startBackend('legacy'), startBackend('thoughts')]);
    const text = routesYaml(
      { legacy: legacy.url, thoughts: thoughts.url },
      `  - { name: thoughts, match: { path: /api/thoughts/** }, split: { thoughts: 50 } }
  - { name: site, match: { path: /** }, split: {} }`,
      'cohort: { keys: [jwt:username, cookie:session, cookie:gw_cohort], salt: s1 }',
    );
    [first, second] = await Promise.all([startTestGateway(text, { jwtPublicKeyPem: publicKey }), startTestGateway(text, { jwtPublicKeyPem: publicKey })]);
  });

  afterAll(async () => {
    await Promise.all([first.stop(), second.stop()]);
    await Promise.all([legacy.close(), thoughts.close()]);
  });

  async function sideOf(gateway: TestGateway, headers: Record<string, string> = {}) {
    const reply = await send(`${gateway.url}/api/thoughts/`, { headers });
    expect(reply.status).toBe(200);
    return { backend: reply.json<{ backend: string }>().backend, setCookie: reply.headers['set-cookie'] };
  }

  it('gives a new client a gw_cohort cookie and keeps it on one side when it sends it back', async () => {
    const { backend, setCookie } = await sideOf(first);
    expect(setCookie).toHaveLength(1);
    expect(setCookie![0]).toMatch(/^gw_cohort=[\w-]{16}; Path=\/; Max-Age=31536000; HttpOnly; SameSite=Lax$/);
    const cookie = setCookie![0]!.split(';')[0]!;
    for (let i = 0; i < 10; i++) {
      const again = await sideOf(first, { cookie: `theme=dark; ${cookie}` });
      expect(again.backend).toBe(backend);
      expect(again.setCookie).toBeUndefined();
    }
  });

  it('two gateways with the same file put each client on the same side', async () => {
    const sides = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const cookie = `gw_cohort=client-${i}`;
      const [a, b] = await Promise.all([sideOf(first, { cookie }), sideOf(second, { cookie })]);
      expect(b.backend).toBe(a.backend);
      sides.add(a.backend);
    }
    expect(sides).toEqual(new Set(['legacy', 'thoughts']));
  });

  it('uses the username of a valid token before any cookie, and ignores a forged token', async () => {
    const bySession = new Map<string, string>();
    for (let i = 0; i < 40; i++) {
      const username = `user${i}`;
      const viaToken = await sideOf(first, { authorization: `Bearer ${token(username)}`, cookie: `session=s-${i}` });
      const viaOtherCookie = await sideOf(first, { authorization: `bearer ${token(username)}`, cookie: `gw_cohort=other-${i}` });
      expect(viaOtherCookie.backend).toBe(viaToken.backend);
      // A token signed with another key proves nothing: the session cookie decides.
      const forged = await sideOf(first, { authorization: `Bearer ${token(username, forger.privateKey)}`, cookie: `session=s-${i}` });
      const sessionOnly = await sideOf(first, { cookie: `session=s-${i}` });
      expect(forged.backend).toBe(sessionOnly.backend);
      bySession.set(`s-${i}`, sessionOnly.backend);
    }
    expect(new Set(bySession.values())).toEqual(new Set(['legacy', 'thoughts']));
  });

  it('sets no cookie when the route does not need a client key (0 % or 100 % splits)', async () => {
    const reply = await send(`${first.url}/thoughts/`);
    expect(reply.json<{ backend: string }>().backend).toBe('legacy');
    expect(reply.headers['set-cookie']).toBeUndefined();
  });
});

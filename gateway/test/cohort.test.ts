import { generateKeyPairSync, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProblem } from '../src/config/problems.ts';
import { compileRouteTable } from '../src/config/compileRouteTable.ts';
import type { RouteTable } from '../src/config/routeTable.ts';
import { chooseBackend } from '../src/decide/chooseBackend.ts';
import { startBackend, type TestBackend } from './helpers/backends.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { cohortCookie } from './helpers/cohort.ts';
import { send } from './helpers/http.ts';
import { routesYaml } from './helpers/routes.ts';

const URLS = { legacy: 'http://127.0.0.1:8001', users: 'http://127.0.0.1:8002', thoughts: 'http://127.0.0.1:8003' };

function tableWith(thoughtsPercent: number, salt = '2026-11'): RouteTable {
  const text = routesYaml(
    URLS,
    `  - { name: thoughts, match: { path: /api/thoughts/** }, split: { thoughts: ${thoughtsPercent} } }`,
    `cohort: { salt: "${salt}" }`,
  );
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

  it("raising the new backend's weight only moves clients from legacy to it (and lowering only back)", () => {
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

  it('refuses a cohort key the gateway cannot check (any cookie but its own signed gw_cohort)', () => {
    const result = compileRouteTable(
      routesYaml(URLS, '  - { name: t, match: { path: /t/** }, split: { thoughts: 5 } }', 'cohort: { keys: [jwt:username, cookie:session, cookie:gw_cohort] }'),
      'routes.yaml',
    );
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems.map(formatProblem)).toEqual([
        "routes.yaml:5: cohort.keys[1]: 'cookie:session' cannot be a cohort key: the gateway cannot check that cookie, so any client could choose its side with an invented value; remove it (browsers keep their side through the gateway's own signed cookie:gw_cohort)",
      ]);
    }
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
  const forger = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const token = (username: string, key = privateKey) => jwt.sign({ username }, key, { algorithm: 'RS256', expiresIn: '2d' });

  beforeAll(async () => {
    [legacy, thoughts] = await Promise.all([startBackend('legacy'), startBackend('thoughts')]);
    const text = routesYaml(
      { legacy: legacy.url, thoughts: thoughts.url },
      `  - { name: thoughts, match: { path: /api/thoughts/** }, split: { thoughts: 50 } }
  - { name: site, match: { path: /** }, split: {} }`,
      'cohort: { keys: [jwt:username, cookie:gw_cohort], salt: s1 }',
    );
    // Both with the test helper's cohort secret, as replicas share GATEWAY_COHORT_SECRET.
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
    expect(setCookie![0]).toMatch(/^gw_cohort=[\w-]{16}\.[\w-]{22}; Path=\/; Max-Age=31536000; HttpOnly; SameSite=Lax$/);
    const cookie = setCookie![0]!.split(';')[0]!;
    for (let i = 0; i < 10; i++) {
      const again = await sideOf(first, { cookie: `theme=dark; ${cookie}` });
      expect(again.backend).toBe(backend);
      expect(again.setCookie).toBeUndefined();
    }
  });

  it("two gateways with the same file and secret put each client on the same side, and accept each other's cookies", async () => {
    const sides = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const cookie = cohortCookie(`client-${i}`);
      const [a, b] = await Promise.all([sideOf(first, { cookie }), sideOf(second, { cookie })]);
      expect(b.backend).toBe(a.backend);
      expect([a.setCookie, b.setCookie]).toEqual([undefined, undefined]);
      sides.add(a.backend);
    }
    expect(sides).toEqual(new Set(['legacy', 'thoughts']));
    // A cookie one replica issued keeps the client on its side at the other.
    const issued = await sideOf(first);
    const cookie = issued.setCookie![0]!.split(';')[0]!;
    for (let i = 0; i < 5; i++) expect((await sideOf(second, { cookie })).backend).toBe(issued.backend);
  });

  it('uses the username of a valid token before any cookie, and ignores a forged token', async () => {
    const byCookie = new Map<string, string>();
    for (let i = 0; i < 40; i++) {
      const username = `user${i}`;
      const viaToken = await sideOf(first, { authorization: `Bearer ${token(username)}`, cookie: cohortCookie(`c-${i}`) });
      const viaOtherCookie = await sideOf(first, { authorization: `bearer ${token(username)}`, cookie: cohortCookie(`other-${i}`) });
      expect(viaOtherCookie.backend).toBe(viaToken.backend);
      // A token signed with another key proves nothing: the gateway's own cookie decides.
      const forged = await sideOf(first, { authorization: `Bearer ${token(username, forger.privateKey)}`, cookie: cohortCookie(`c-${i}`) });
      const cookieOnly = await sideOf(first, { cookie: cohortCookie(`c-${i}`) });
      expect(forged.backend).toBe(cookieOnly.backend);
      byCookie.set(`c-${i}`, cookieOnly.backend);
    }
    expect(new Set(byCookie.values())).toEqual(new Set(['legacy', 'thoughts']));
  });

  it('replaces a forged, unsigned or tampered gw_cohort with a newly issued one: the client cannot choose its side', async () => {
    const genuine = cohortCookie('genuine').split('=')[1]!;
    const [id, mac] = genuine.split('.') as [string, string];
    const forgeries = [
      'k6',
      'load-client-7',
      id,
      `${id}.`,
      `${id}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`,
      cohortCookie('genuine', 'another-secret-of-at-least-32-chars').split('=')[1]!,
    ];
    for (const value of forgeries) {
      const sides = new Set<string>();
      for (let i = 0; i < 30; i++) {
        const reply = await sideOf(first, { cookie: `gw_cohort=${value}` });
        // Each time a fresh signed cookie, never the value sent: the side is the gateway's draw.
        expect(reply.setCookie, value).toHaveLength(1);
        expect(reply.setCookie![0]).toMatch(/^gw_cohort=[\w-]{16}\.[\w-]{22};/);
        expect(reply.setCookie![0]).not.toContain(`gw_cohort=${value};`);
        sides.add(reply.backend);
      }
      expect(sides, value).toEqual(new Set(['legacy', 'thoughts']));
    }
  });

  it('never keys on an invented session cookie (the gateway cannot check it)', async () => {
    const sides = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const reply = await sideOf(first, { cookie: 'session=i-picked-this-one' });
      expect(reply.setCookie).toHaveLength(1);
      sides.add(reply.backend);
    }
    expect(sides).toEqual(new Set(['legacy', 'thoughts']));
  });

  it('sets no cookie when the route does not need a client key (0 % or 100 % splits)', async () => {
    const reply = await send(`${first.url}/thoughts/`);
    expect(reply.json<{ backend: string }>().backend).toBe('legacy');
    expect(reply.headers['set-cookie']).toBeUndefined();
  });
});

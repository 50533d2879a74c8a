import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenSigner } from '@mythoughts/runtime/tokens';
import { compileRouteTable } from '../src/config/compileRouteTable.ts';
import { formatProblem } from '../src/config/problems.ts';
import { parseTtl, signOverrideToken, verifyOverrideToken } from '../src/decide/overrideToken.ts';
import { startBackend, type TestBackend } from './helpers/backends.ts';
import { scrape, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { send } from './helpers/http.ts';
import { routesYaml, sample } from './helpers/routes.ts';

const SECRET = 'override-secret-for-tests-0123456789abcdef';
const BIN = fileURLToPath(new URL('../bin/gateway.mjs', import.meta.url));
const now = () => Math.floor(Date.now() / 1000);

const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const jwt = createTokenSigner(keys.privateKey);

let legacy: TestBackend;
let thoughts: TestBackend;
let gateway: TestGateway;

beforeAll(async () => {
  [legacy, thoughts] = await Promise.all([startBackend('legacy'), startBackend('thoughts')]);
  gateway = await startTestGateway(
    routesYaml(
      { legacy: legacy.url, thoughts: thoughts.url },
      `  - { name: admin, match: { path: /admin/** }, deny: 404 }
  - { name: thoughts, match: { path: /api/thoughts/** }, split: { thoughts: 0 }, fallback: legacy }
  - { name: site, match: { path: /** }, split: {} }`,
      'testers: [bruce]',
    ),
    { overrideSecret: SECRET, jwtPublicKeyPem: keys.publicKey },
  );
});

afterAll(async () => {
  await gateway.stop();
  await Promise.all([legacy.close(), thoughts.close()]);
});

/** Sends a request with the given headers; returns who answered and what that back end saw. */
async function ask(headers: Record<string, string>, path = '/api/thoughts/') {
  const before = { legacy: legacy.seen.length, thoughts: thoughts.seen.length };
  const reply = await send(`${gateway.url}${path}`, { headers: { 'x-request-id': `override-${Math.random()}`, ...headers } });
  const seen = [...legacy.seen.slice(before.legacy), ...thoughts.seen.slice(before.thoughts)];
  expect(seen).toHaveLength(1);
  const line = gateway.logLines().find((l) => l.msg === 'request' && l.reqId === reply.headers['x-request-id']);
  return { backend: reply.json<{ backend: string }>().backend, seenHeaders: seen[0]!.headers, log: line };
}

describe('override tokens', () => {
  it('verifies its own signature, refuses another secret, an altered payload and an expired token', () => {
    const token = signOverrideToken(SECRET, 'thoughts', now() + 60);
    expect(verifyOverrideToken(SECRET, token, now())).toMatchObject({ ok: true, backend: 'thoughts' });
    expect(verifyOverrideToken(`${SECRET}x`, token, now())).toMatchObject({ ok: false, reason: expect.stringMatching(/signature is invalid/) });
    const [version, , signature] = token.split('.');
    const altered = `${version}.${Buffer.from(JSON.stringify({ b: 'legacy', exp: now() + 60 })).toString('base64url')}.${signature}`;
    expect(verifyOverrideToken(SECRET, altered, now())).toMatchObject({ ok: false, reason: expect.stringMatching(/signature is invalid/) });
    expect(verifyOverrideToken(SECRET, signOverrideToken(SECRET, 'thoughts', now() - 1), now())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/expired/),
    });
    expect(verifyOverrideToken(SECRET, 'garbage', now())).toMatchObject({ ok: false });
  });

  it('reads durations like 30m, 1h, 2d and refuses the rest', () => {
    expect([parseTtl('90'), parseTtl('30m'), parseTtl('1h'), parseTtl('2d')]).toEqual([90, 1800, 3600, 172_800]);
    expect(parseTtl('1 week')).toEqual({ error: expect.stringMatching(/not a duration/) });
    expect(parseTtl('30d')).toEqual({ error: expect.stringMatching(/out of range/) });
  });
});

describe('X-Gateway-Backend on the public port', () => {
  it('ignores a forged header without proof, and strips it before forwarding', async () => {
    const result = await ask({ 'x-gateway-backend': 'thoughts' });
    expect(result.backend).toBe('legacy');
    expect(result.seenHeaders['x-gateway-backend']).toBeUndefined();
    expect(result.log).toMatchObject({ decision: 'weight', overrideRefused: expect.stringMatching(/needs X-Gateway-Override/) });
  });

  it('ignores an expired token, a token signed with another secret, and a token for another backend — and strips them', async () => {
    const cases = [
      [signOverrideToken(SECRET, 'thoughts', now() - 5), /expired/],
      [signOverrideToken('another-secret-of-enough-length-0123456789', 'thoughts', now() + 600), /signature is invalid/],
      [signOverrideToken(SECRET, 'legacy', now() + 600), /is for backend 'legacy'/],
    ] as const;
    for (const [token, reason] of cases) {
      const result = await ask({ 'x-gateway-backend': 'thoughts', 'x-gateway-override': token });
      expect(result.backend).toBe('legacy');
      expect(result.seenHeaders['x-gateway-override']).toBeUndefined();
      expect(result.seenHeaders['x-gateway-backend']).toBeUndefined();
      expect(result.log).toMatchObject({ decision: 'weight', overrideRefused: expect.stringMatching(reason) });
    }
  });

  it('routes as asked with a valid token, even to a backend at 0 %, and counts decision=override', async () => {
    const token = signOverrideToken(SECRET, 'thoughts', now() + 600);
    const result = await ask({ 'x-gateway-backend': 'Thoughts', 'x-gateway-override': token });
    expect(result.backend).toBe('thoughts');
    expect(result.seenHeaders['x-gateway-override']).toBeUndefined();
    expect(result.log).toMatchObject({ decision: 'override', backend: 'thoughts' });
    expect(result.log!.overrideRefused).toBeUndefined();
    const metrics = await scrape(gateway);
    expect(metrics.get(sample('gateway_requests_total', { route: 'thoughts', backend: 'thoughts', decision: 'override', code: '2xx' }))).toBeGreaterThanOrEqual(
      1,
    );
  });

  it('never lets a token pick a backend the route does not name', async () => {
    const token = signOverrideToken(SECRET, 'thoughts', now() + 600);
    const result = await ask({ 'x-gateway-backend': 'thoughts', 'x-gateway-override': token }, '/thoughts/');
    expect(result.backend).toBe('legacy');
    expect(result.log).toMatchObject({ route: 'site', overrideRefused: expect.stringMatching(/cannot serve route site; allowed: legacy/) });
  });

  it('routes a tester (JWT user listed under testers:) as asked, but not another user or a forged JWT', async () => {
    const tester = await ask({ 'x-gateway-backend': 'thoughts', authorization: `Bearer ${jwt.sign('bruce')}` });
    expect([tester.backend, tester.log?.decision]).toEqual(['thoughts', 'override']);
    // The JWT itself still reaches the back end: it is the user's credential, not a gateway header.
    expect(tester.seenHeaders.authorization).toMatch(/^Bearer ey/);

    const other = await ask({ 'x-gateway-backend': 'thoughts', authorization: `Bearer ${jwt.sign('stephen')}` });
    expect(other.backend).toBe('legacy');
    expect(other.log).toMatchObject({ overrideRefused: "user 'stephen' is not listed under testers: in routes.yaml" });

    const forger = createTokenSigner(
      generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      }).privateKey,
    );
    const forged = await ask({ 'x-gateway-backend': 'thoughts', authorization: `Bearer ${forger.sign('bruce')}` });
    expect(forged.backend).toBe('legacy');
    expect(forged.log).toMatchObject({ overrideRefused: expect.stringMatching(/JWT is not valid/) });
  });

  it('ignores override tokens entirely on a gateway without GATEWAY_OVERRIDE_SECRET', async () => {
    const bare = await startTestGateway(
      routesYaml({ legacy: legacy.url, thoughts: thoughts.url }, '  - { name: thoughts, match: { path: /** }, split: { thoughts: 0 } }'),
    );
    try {
      const token = signOverrideToken(SECRET, 'thoughts', now() + 600);
      const reply = await send(`${bare.url}/api/thoughts/`, { headers: { 'x-gateway-backend': 'thoughts', 'x-gateway-override': token } });
      expect(reply.json()).toMatchObject({ backend: 'legacy' });
    } finally {
      await bare.stop();
    }
    await expect(
      startTestGateway(routesYaml({ legacy: legacy.url }, '  - { name: site, match: { path: /** }, split: {} }'), { overrideSecret: 'short' }),
    ).rejects.toThrow(/GATEWAY_OVERRIDE_SECRET is 5 characters; use at least 32/);
  });
});

describe('routes.yaml: testers and the retired override_header', () => {
  it('refuses cohort.override_header with the way to the signed override', () => {
    const result = compileRouteTable(
      routesYaml({ legacy: 'http://127.0.0.1:1' }, '  - { name: site, match: { path: /** }, split: {} }', 'cohort: { override_header: x-gateway-backend }'),
      'routes.yaml',
    );
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([
      expect.stringMatching(
        /^routes\.yaml:3: cohort\.override_header: is no longer supported \(any client could pick a backend\).*GATEWAY_OVERRIDE_SECRET.*testers:/,
      ),
    ]);
  });

  it('takes testers as a list of usernames', () => {
    const result = compileRouteTable(
      routesYaml({ legacy: 'http://127.0.0.1:1' }, '  - { name: site, match: { path: /** }, split: {} }', 'testers: [bruce, " x"]'),
      'routes.yaml',
    );
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([
      "routes.yaml:3: testers: ' x' is not a username (at most 50 characters, no surrounding spaces)",
    ]);
  });
});

describe('gateway override-token', () => {
  function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [BIN, 'override-token', ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      );
    });
  }

  it('prints a token the gateway honours for the named backend and refuses bad input', async () => {
    const env = { GATEWAY_OVERRIDE_SECRET: SECRET, GATEWAY_ROUTES: gateway.routesFile };
    const made = await cli(['--backend', 'thoughts', '--ttl', '1h'], env);
    expect(made.code).toBe(0);
    expect(made.stderr).toMatch(/token for backend thoughts, valid until/);
    const token = made.stdout.trim();
    expect(verifyOverrideToken(SECRET, token, now())).toMatchObject({ ok: true, backend: 'thoughts' });
    const check = verifyOverrideToken(SECRET, token, now());
    expect(check.ok && check.expiresAt - now()).toBeGreaterThan(3500);
    expect((await ask({ 'x-gateway-backend': 'thoughts', 'x-gateway-override': token })).backend).toBe('thoughts');

    const unknown = await cli(['--backend', 'thoughtz'], env);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringMatching(/unknown backend 'thoughtz'.*allowed: legacy, thoughts/)]);
    const noSecret = await cli(['--backend', 'thoughts'], { GATEWAY_OVERRIDE_SECRET: '', GATEWAY_ROUTES: gateway.routesFile });
    expect([noSecret.code, noSecret.stderr]).toEqual([1, expect.stringMatching(/set GATEWAY_OVERRIDE_SECRET/)]);
  });
});

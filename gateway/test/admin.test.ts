// The admin API on the admin port: the plan, live stats, split changes written back to
// routes.yaml with the audit, panic, and its protection (token, loopback, cross-site
// writes). Real gateway, real back ends, real files.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupSeed, bucketOf } from '../src/core/bucket.ts';
import { send, type Reply } from './helpers/http.ts';
import { sendAsClients, startOpsSystem, type OpsSystem } from './helpers/opsFixture.ts';
import { cohortCookie, cohortId } from './helpers/cohort.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };

function post(system: OpsSystem, apiPath: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return send(`${system.gateway.adminUrl}${apiPath}`, { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) });
}

function auditLines(system: OpsSystem): Record<string, unknown>[] {
  const file = path.join(path.dirname(system.gateway.routesFile), 'routes.audit.jsonl');
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('admin API without a token (loopback only)', () => {
  let system: OpsSystem;
  beforeAll(async () => {
    system = await startOpsSystem();
  });
  afterAll(() => system.stop());

  it('GET /api/plan shows the running plan', async () => {
    const reply = await send(`${system.gateway.adminUrl}/api/plan`);
    expect(reply.status).toBe(200);
    const plan = reply.json<{ file: string; salt: string; routes: { name: string; group: string; split: unknown; deny: number | null }[] }>();
    expect(plan.file).toBe(system.gateway.routesFile);
    expect(plan.salt).toBe('ops-test');
    expect(plan.routes.map((r) => r.name)).toEqual(['admin', 'my-thoughts', 'thoughts', 'login', 'site']);
    expect(plan.routes[2]).toMatchObject({ name: 'thoughts', group: 'thoughts', split: { thoughts: 10, legacy: 90 }, deny: null });
    expect(plan.routes[0]).toMatchObject({ name: 'admin', split: null, deny: 404 });
  });

  it('GET /api/stats gives the realised share, rate, error rate and p95 per route and backend', async () => {
    await post(system, '/api/routes/thoughts/split', { backend: 'thoughts', percent: 50 });
    const clients = await sendAsClients(system.gateway.url, '/api/thoughts/1', 300, 'stats');
    const onThoughts = [...clients.values()].filter((b) => b === 'thoughts').length;
    system.backends.thoughts.behaviour = (_req, res) => res.writeHead(500).end('boom');
    // Clients known to be on thoughts now get a 500 from it (GET falls back on 502-504 only);
    // 4 of them, under the 5 consecutive failures that would eject the backend.
    const thoughtsClients = [...clients]
      .filter(([, b]) => b === 'thoughts')
      .slice(0, 4)
      .map(([key]) => key);
    for (const key of thoughtsClients) await send(`${system.gateway.url}/api/thoughts/1`, { headers: { cookie: cohortCookie(key) } });
    system.backends.thoughts.behaviour = (req, res) =>
      res.writeHead(200, { 'x-backend': 'thoughts' }).end(JSON.stringify({ backend: 'thoughts', path: req.url }));

    const stats = (await send(`${system.gateway.adminUrl}/api/stats`)).json<{
      migratedShare: number;
      routes: {
        name: string;
        requests: number;
        backends: { backend: string; requests: number; share: number; errorRate: number; p95Ms: number; configured: number | null }[];
      }[];
    }>();
    const route = stats.routes.find((r) => r.name === 'thoughts')!;
    expect(route.requests).toBe(304);
    const thoughts = route.backends.find((b) => b.backend === 'thoughts')!;
    const legacy = route.backends.find((b) => b.backend === 'legacy')!;
    expect(thoughts).toMatchObject({ configured: 50, requests: onThoughts + 4 });
    expect(legacy).toMatchObject({ configured: 50, requests: 300 - onThoughts, errorRate: 0 });
    expect(thoughts.share).toBeCloseTo((onThoughts + 4) / 304, 5);
    expect(thoughts.share).toBeGreaterThan(0.4);
    expect(thoughts.share).toBeLessThan(0.6);
    expect(thoughts.errorRate).toBeCloseTo(4 / (onThoughts + 4), 5);
    expect(thoughts.p95Ms).toBeGreaterThan(0);
    expect(stats.migratedShare).toBeCloseTo(thoughts.share, 5);
  });

  it('POST /api/routes/:route/split dry run: diff and the estimate from recent clients, file untouched', async () => {
    const before = readFileSync(system.gateway.routesFile);
    const reply = await post(system, '/api/routes/thoughts/split', { backend: 'thoughts', percent: 80, dryRun: true });
    expect(reply.status).toBe(200);
    const result = reply.json<{ applied: boolean; diff: string; changes: { route: string }[]; estimate: { unavailable: string | null; groups: unknown[] } }>();
    expect(result.applied).toBe(false);
    expect(result.changes.map((c) => c.route)).toEqual(['my-thoughts', 'thoughts']);
    expect(result.diff).toContain('-    split: { thoughts: 50 }   # canary\n+    split: { thoughts: 80 }   # canary');
    expect(result.estimate.unavailable).toBeNull();
    // The clients of the previous test ("stats-0".."stats-299"): those in buckets 5000..7999 move.
    const seed = groupSeed('ops-test', 'thoughts');
    const expected = Array.from({ length: 300 }, (_, i) => bucketOf(seed, cohortId(`stats-${i}`))).filter((b) => b >= 5000 && b < 8000).length;
    expect(result.estimate.groups).toEqual([
      expect.objectContaining({ group: 'thoughts', routes: ['my-thoughts', 'thoughts'], recent: expect.objectContaining({ clients: 300, moved: expected }) }),
    ]);
    expect(readFileSync(system.gateway.routesFile).equals(before)).toBe(true);
  });

  it('POST /api/routes/:route/split writes routes.yaml, audits, and the gateway runs it at once', async () => {
    const reply = await post(system, '/api/routes/my-thoughts/split', { backend: 'thoughts', percent: '25', reason: 'canary clean', by: 'alice' });
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({ applied: true, reload: { ok: true } });
    const text = readFileSync(system.gateway.routesFile, 'utf8');
    expect(text).toContain('    split: { thoughts: 25 }   # canary\n');
    expect(text).toContain('      thoughts: 25    # block style, with a comment\n      legacy: 75\n');
    expect(
      system.gateway
        .table()
        .routes.find((r) => r.name === 'thoughts')!
        .shares.map((s) => s.ratio),
    ).toEqual([0.25, 0.75]);
    const last = auditLines(system).slice(-2);
    expect(last.map((e) => e.route)).toEqual(['my-thoughts', 'thoughts']);
    expect(last[0]).toMatchObject({
      who: 'alice (loopback admin)',
      via: 'admin',
      action: 'shift',
      group: 'thoughts',
      old: { thoughts: 50, legacy: 50 },
      new: { thoughts: 25, legacy: 75 },
      reason: 'canary clean',
    });
    expect(Date.parse(String(last[0]!.time))).toBeGreaterThan(Date.now() - 60_000);
  });

  it('GET /api/audit lists the changes, newest first', async () => {
    const audit = (await send(`${system.gateway.adminUrl}/api/audit?limit=3`)).json<{ entries: { route: string; new: Record<string, number> }[] }>();
    expect(audit.entries.map((e) => `${e.route} ${e.new.thoughts}`)).toEqual(['thoughts 25', 'my-thoughts 25', 'thoughts 50']);
  });

  it.each([
    ['an unknown route', '/api/routes/thougths/split', { backend: 'thoughts', percent: 5 }, 404, "unknown route 'thougths' (did you mean 'thoughts'?)"],
    ['an unknown backend', '/api/routes/thoughts/split', { backend: 'thinks', percent: 5 }, 400, "unknown backend 'thinks'"],
    ['a negative share', '/api/routes/thoughts/split', { backend: 'thoughts', percent: -1 }, 400, '-1 is negative'],
    ['a share over 100', '/api/routes/thoughts/split', { backend: 'thoughts', percent: 120 }, 400, '120 is more than 100 percent'],
    ['a share that is not a number', '/api/routes/thoughts/split', { backend: 'thoughts', percent: 'lots' }, 400, "'lots' is not a number"],
    ['new backends over 100 %', '/api/routes/login/split', { backend: 'users', percent: 60, only: true }, 200, ''],
    ['a second new backend taking the sum over 100 %', '/api/routes/login/split', { backend: 'thoughts', percent: 50 }, 400, 'users 60% + thoughts 50% = 110%'],
    ['a deny route', '/api/routes/admin/split', { backend: 'thoughts', percent: 5 }, 400, 'route admin answers 404 itself'],
    ['a panic without a target', '/api/panic', {}, 400, '{ "all": true }'],
    ['an unknown endpoint', '/api/nope', {}, 404, 'no admin API endpoint POST /api/nope'],
  ])('refuses %s with a JSON status and message', async (_what, apiPath, body, status, message) => {
    const before = readFileSync(system.gateway.routesFile);
    const reply = await post(system, apiPath, body);
    expect(reply.status, reply.body).toBe(status);
    if (status === 200) return; // the set-up step of the next case
    expect(reply.json()).toEqual({ status, message: expect.stringContaining(message) });
    expect(readFileSync(system.gateway.routesFile).equals(before)).toBe(true);
  });

  it('refuses writes that are not JSON or come from another site (CSRF against a loopback port)', async () => {
    const form = await send(`${system.gateway.adminUrl}/api/panic`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"all":true}' });
    expect(form.status).toBe(415);
    const crossSite = await post(system, '/api/panic', { all: true }, { origin: 'http://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(crossSite.json<{ message: string }>().message).toContain('cross-origin request from http://evil.example refused');
    const broken = await send(`${system.gateway.adminUrl}/api/panic`, { method: 'POST', headers: JSON_HEADERS, body: '{"all":' });
    expect(broken.status).toBe(400);
    expect(broken.json<{ message: string }>().message).toContain('the body is not valid JSON');
    expect(system.gateway.table().routes.find((r) => r.name === 'thoughts')!.slices[0]!.upTo).toBe(2500);
  });

  it('POST /api/panic sends every route back to legacy', async () => {
    const reply = await post(system, '/api/panic', { all: true, reason: 'errors' });
    expect(reply.status).toBe(200);
    expect(reply.json<{ changes: { route: string }[] }>().changes.map((c) => c.route)).toEqual(['my-thoughts', 'thoughts', 'login']);
    for (const route of system.gateway.table().routes) expect(route.slices).toEqual([]);
    const clients = await sendAsClients(system.gateway.url, '/api/me/thoughts/x', 30, 'after-panic');
    expect(new Set(clients.values())).toEqual(new Set(['legacy']));
  });

  it('compare-and-write: a change naming the plan version it saw is refused with 409 once the file moved on', async () => {
    const seen = (await send(`${system.gateway.adminUrl}/api/plan`)).json<{ version: string }>().version;
    expect(seen).toMatch(/^[0-9a-f]{64}$/);
    const first = await post(system, '/api/routes/login/split', { backend: 'users', percent: 10, expectVersion: seen });
    expect(first.status, first.body).toBe(200);
    const version = first.json<{ version: string; plan: { version: string } }>();
    expect(version.version).not.toBe(seen);
    expect(version.plan.version).toBe(version.version);

    const before = readFileSync(system.gateway.routesFile);
    const auditBefore = auditLines(system).length;
    const stale = await post(system, '/api/routes/login/split', { backend: 'users', percent: 20, expectVersion: seen });
    expect(stale.status).toBe(409);
    expect(stale.json<{ message: string }>().message).toContain(
      `changed since it was read (expected version ${seen.slice(0, 12)}, it is now at ${version.version.slice(0, 12)})`,
    );
    expect(readFileSync(system.gateway.routesFile).equals(before)).toBe(true);
    expect(auditLines(system)).toHaveLength(auditBefore);
  });

  it('serves the dashboard with a strict Content-Security-Policy', async () => {
    const page = await send(`${system.gateway.adminUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<title>Migration · MyThoughts gateway</title>');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect((await send(`${system.gateway.adminUrl}/dashboard/app.js`)).headers['content-type']).toMatch(/^text\/javascript/);
  });
});

describe('admin API with a token', () => {
  let system: OpsSystem;
  const token = 'correct-horse-battery-staple';
  beforeAll(async () => {
    system = await startOpsSystem({ adminToken: token });
  });
  afterAll(() => system.stop());

  it('answers 401 without the token or with a wrong one, and works with it', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: token }] as Record<string, string>[]) {
      const reply = await send(`${system.gateway.adminUrl}/api/plan`, { headers });
      expect(reply.status).toBe(401);
      expect(reply.json()).toEqual({ status: 401, message: 'Unauthorized: send Authorization: Bearer <GATEWAY_ADMIN_TOKEN>' });
    }
    const refused = await post(system, '/api/routes/thoughts/split', { backend: 'thoughts', percent: 30 });
    expect(refused.status).toBe(401);
    expect(system.gateway.table().routes.find((r) => r.name === 'thoughts')!.slices[0]!.upTo).toBe(1000);

    const auth = { authorization: `Bearer ${token}` };
    expect((await send(`${system.gateway.adminUrl}/api/plan`, { headers: auth })).status).toBe(200);
    expect((await send(`${system.gateway.adminUrl}/api/stats`, { headers: auth })).status).toBe(200);
    const shifted = await post(system, '/api/routes/thoughts/split', { backend: 'thoughts', percent: 30, by: 'bob' }, auth);
    expect(shifted.status).toBe(200);
    expect(system.gateway.table().routes.find((r) => r.name === 'thoughts')!.slices[0]!.upTo).toBe(3000);
    expect(auditLines(system).at(-1)).toMatchObject({ who: 'bob (admin token)', via: 'admin' });
  });

  it('keeps the probes and the (data-free) dashboard page open', async () => {
    expect((await send(`${system.gateway.adminUrl}/healthz`)).status).toBe(200);
    expect((await send(`${system.gateway.adminUrl}/`)).status).toBe(200);
  });

  it('the public port never serves the admin API or the dashboard', async () => {
    const before = readFileSync(system.gateway.routesFile);
    const seenBefore = system.backends.legacy.seen.length;
    for (const target of ['/api/plan', '/api/stats', '/api/audit', '/']) {
      const reply = await send(`${system.gateway.url}${target}`, { headers: { authorization: `Bearer ${token}` } });
      // Proxied like any public path: the back end answers, never the admin API.
      expect(reply.json()).toEqual({ backend: 'legacy', path: target });
    }
    const write = await send(`${system.gateway.url}/api/routes/thoughts/split`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${token}` },
      body: JSON.stringify({ backend: 'thoughts', percent: 100 }),
    });
    expect(write.json()).toEqual({ backend: 'legacy', path: '/api/routes/thoughts/split' });
    expect(system.backends.legacy.seen.length).toBe(seenBefore + 5);
    expect(readFileSync(system.gateway.routesFile).equals(before)).toBe(true);
  });
});

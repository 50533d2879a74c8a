import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './helpers/backends.ts';
import { scrape, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { send, sendRaw } from './helpers/http.ts';
import { routesYaml, sample } from './helpers/routes.ts';
import { signOverrideToken } from '../src/decide/overrideToken.ts';

const OVERRIDE_SECRET = 'metrics-test-override-secret-0123456789';

let legacy: TestBackend;
let thoughts: TestBackend;
let gateway: TestGateway;

beforeAll(async () => {
  [legacy, thoughts] = await Promise.all([startBackend('legacy'), startBackend('thoughts')]);
  thoughts.behaviour = (req, res) => {
    const status = req.url?.includes('boom') ? 500 : 200;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: 'thoughts' }));
  };
  gateway = await startTestGateway(
    routesYaml(
      { legacy: legacy.url, thoughts: thoughts.url },
      `  - { name: admin, match: { path: /admin/** }, deny: 404 }
  - { name: thoughts, match: { path: /api/thoughts/** }, split: { thoughts: 100 } }
  - { name: canary, match: { path: /api/me/** }, split: { thoughts: 12.5 } }
  - { name: site, match: { path: /** }, split: {} }`,
    ),
    { defaultMetrics: true, overrideSecret: OVERRIDE_SECRET },
  );
});

afterAll(async () => {
  await gateway.stop();
  await Promise.all([legacy.close(), thoughts.close()]);
});

describe('metrics', () => {
  it('counts each request under its route, backend, decision and status class', async () => {
    await send(`${gateway.url}/api/thoughts/`);
    await send(`${gateway.url}/api/thoughts/`);
    await send(`${gateway.url}/api/thoughts/boom/`);
    await send(`${gateway.url}/thoughts/`);
    // A signed override may only pick a backend the route names.
    const override = { 'x-gateway-backend': 'thoughts', 'x-gateway-override': signOverrideToken(OVERRIDE_SECRET, 'thoughts', Date.now() / 1000 + 600) };
    await send(`${gateway.url}/thoughts/`, { headers: override });
    await send(`${gateway.url}/api/me/thoughts/`, { headers: override });
    await send(`${gateway.url}/admin/users/`);
    await sendRaw(gateway.port, '/admin%2Fusers/');
    const metrics = await scrape(gateway);
    const count = (route: string, backend: string, decision: string, code: string) =>
      metrics.get(sample('gateway_requests_total', { route, backend, decision, code }));
    expect(count('thoughts', 'thoughts', 'weight', '2xx')).toBe(2);
    expect(count('thoughts', 'thoughts', 'weight', '5xx')).toBe(1);
    expect(count('site', 'legacy', 'weight', '2xx')).toBe(2);
    expect(count('site', 'thoughts', 'override', '2xx')).toBeUndefined();
    expect(count('canary', 'thoughts', 'override', '2xx')).toBe(1);
    expect(count('admin', 'none', 'deny', '4xx')).toBe(1);
    expect(count('invalid_path', 'none', 'deny', '4xx')).toBe(1);
    // One histogram observation per request, under the same route and backend.
    expect(metrics.get(sample('gateway_request_duration_seconds_count', { route: 'thoughts', backend: 'thoughts' }))).toBe(3);
    expect(metrics.get(sample('gateway_request_duration_seconds_count', { route: 'admin', backend: 'none' }))).toBe(1);
    expect(metrics.get(sample('gateway_upstream_errors_total', { backend: 'thoughts', reason: '5xx' }))).toBe(1);
  });

  it('publishes the configured share of every route and backend', async () => {
    const metrics = await scrape(gateway);
    const weight = (route: string, backend: string) => metrics.get(sample('gateway_route_weight_ratio', { route, backend }));
    expect([weight('thoughts', 'thoughts'), weight('thoughts', 'legacy')]).toEqual([1, 0]);
    expect([weight('canary', 'thoughts'), weight('canary', 'legacy')]).toEqual([0.125, 0.875]);
    expect(weight('site', 'legacy')).toBe(1);
    expect(weight('admin', 'none')).toBeUndefined();
  });

  it('exposes reload counters, the load timestamp, the declared shadow counter and process metrics', async () => {
    const reply = await send(`${gateway.adminUrl}/metrics`);
    expect(reply.headers['content-type']).toMatch(/^text\/plain/);
    const metrics = await scrape(gateway);
    expect(metrics.get(sample('gateway_config_reloads_total', { result: 'success' }))).toBe(0);
    expect(metrics.get(sample('gateway_config_reloads_total', { result: 'failure' }))).toBe(0);
    const loadedAt = metrics.get('gateway_config_last_reload_success_timestamp_seconds')!;
    expect(Math.abs(loadedAt - Date.now() / 1000)).toBeLessThan(60);
    expect(reply.body).toContain('# TYPE gateway_shadow_comparisons_total counter');
    expect(reply.body).toContain('# TYPE gateway_backend_ejections_total counter');
    expect(metrics.has('process_cpu_user_seconds_total')).toBe(true);
  });
});

describe('access log', () => {
  it('writes one line per request with route, backend, decision, status and durations, without secrets or query', async () => {
    const before = gateway.logLines().length;
    await send(`${gateway.url}/api/thoughts/?password=hunter2`, {
      headers: { authorization: 'Bearer secret-token-value', cookie: 'session=secret-session', 'x-request-id': 'log-1' },
    });
    const lines = gateway
      .logLines()
      .slice(before)
      .filter((line) => line.msg === 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      reqId: 'log-1',
      method: 'GET',
      path: '/api/thoughts/',
      route: 'thoughts',
      backend: 'thoughts',
      decision: 'weight',
      status: 200,
      attempts: 1,
    });
    expect(lines[0]!.durationMs).toEqual(expect.any(Number));
    expect(lines[0]!.upstreamMs).toEqual(expect.any(Number));
    const everything = JSON.stringify(gateway.logLines());
    for (const secret of ['hunter2', 'secret-token-value', 'secret-session']) expect(everything).not.toContain(secret);
  });
});

describe('admin port', () => {
  it('answers /livez, its older name /healthz, and /readyz', async () => {
    expect((await send(`${gateway.adminUrl}/livez`)).json()).toEqual({ status: 'ok' });
    expect((await send(`${gateway.adminUrl}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await send(`${gateway.adminUrl}/readyz`);
    expect([ready.status, ready.json()]).toEqual([200, { status: 'ready' }]);
  });

  it('is not reachable through the public port', async () => {
    const reply = await send(`${gateway.url}/metrics`);
    expect(reply.json()).toMatchObject({ backend: 'legacy' });
  });

  it('requires the token for /metrics when one is configured, but not for the probes', async () => {
    const guarded = await startTestGateway(routesYaml({ legacy: legacy.url }, '  - { name: site, match: { path: /** }, split: {} }'), { adminToken: 's3cret' });
    try {
      expect((await send(`${guarded.adminUrl}/metrics`)).status).toBe(401);
      expect((await send(`${guarded.adminUrl}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await scrape(guarded, { authorization: 'Bearer s3cret' })).has('gateway_config_reloads_total{result="success"}')).toBe(true);
      expect((await send(`${guarded.adminUrl}/healthz`)).status).toBe(200);
    } finally {
      await guarded.stop();
    }
  });

  it('refuses to open the admin port beyond loopback without a token', async () => {
    await expect(
      startTestGateway(routesYaml({ legacy: legacy.url }, '  - { name: site, match: { path: /** }, split: {} }'), { adminHost: '0.0.0.0' }),
    ).rejects.toThrow(/admin port would listen on 0\.0\.0\.0 without a token: set GATEWAY_ADMIN_TOKEN/);
  });
});

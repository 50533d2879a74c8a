import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './helpers/backends.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { send } from './helpers/http.ts';
import { routesYaml } from './helpers/routes.ts';

// Two routes on the same path that differ only by a header condition: the first takes the
// requests carrying the header, the second the rest — and every view of the plan says so.
let legacy: TestBackend;
let mobile: TestBackend;
let gateway: TestGateway;

beforeAll(async () => {
  legacy = await startBackend('legacy');
  mobile = await startBackend('mobile');
  gateway = await startTestGateway(
    routesYaml(
      { legacy: legacy.url, mobile: mobile.url },
      `  - { name: api-mobile, match: { path: /api/**, headers: { x-client: mobile } }, split: { mobile: 100 } }
  - { name: api, match: { path: /api/** }, split: {} }
  - { name: site, match: { path: /** }, split: {} }`,
    ),
  );
});

afterAll(async () => {
  await gateway.stop();
  await Promise.all([legacy.close(), mobile.close()]);
});

describe('routes that differ only by a header', () => {
  it('sends a request with the header to the first route and one without it to the second', async () => {
    const withHeader = await send(`${gateway.url}/api/thoughts/`, { headers: { 'X-Client': 'mobile' } });
    const otherValue = await send(`${gateway.url}/api/thoughts/`, { headers: { 'x-client': 'Mobile' } });
    const without = await send(`${gateway.url}/api/thoughts/`);
    expect([withHeader.status, otherValue.status, without.status]).toEqual([200, 200, 200]);
    expect(mobile.seen.map((s) => s.headers['x-client'])).toEqual(['mobile']);
    expect(legacy.seen.map((s) => s.headers['x-client'] ?? null)).toEqual(['Mobile', null]);
  });

  it('shows the header condition in the route summary and the admin plan', async () => {
    const summary = gateway.table().summary();
    expect(summary[0]).toBe('api-mobile: /api/** {x-client: mobile} → mobile 100%, legacy 0%');
    expect(summary[1]).toBe('api: /api/** → legacy 100%');
    const plan = JSON.parse((await send(`${gateway.adminUrl}/api/plan`)).body) as { routes: { name: string; headers: Record<string, string> | null }[] };
    expect(plan.routes.map((r) => [r.name, r.headers])).toEqual([
      ['api-mobile', { 'x-client': 'mobile' }],
      ['api', null],
      ['site', null],
    ]);
  });
});

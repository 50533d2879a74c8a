import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape } from '../../gateway/test/helpers/gateway.ts';
import type { TestGateway } from '../../gateway/test/helpers/gateway.ts';
import { Browser, createUser, thoughtTextsOf } from '../../legacy-monolith/test/helpers.ts';
import { startGatewayInFront } from '../support/gatewayInFront.ts';
import { startSystem, type MyThoughtsSystem } from '../support/system.ts';

/**
 * End users through the public port of the real gateway, in front of the real monolith and
 * services, with the shipped routes.yaml at 0, 50 and 100 % for the new services.
 */
for (const percent of [0, 50, 100]) {
  describe(`through the gateway, new services at ${percent} %`, () => {
    let system: MyThoughtsSystem;
    let gateway: TestGateway;

    beforeAll(async () => {
      system = await startSystem('sqlite');
      gateway = await startGatewayInFront(system, { users: percent, thoughts: percent });
    });
    afterAll(async () => {
      await gateway?.stop();
      await system?.stop();
    });

    /** Which back end served the request with this id, from the gateway's access log. */
    function backendOf(requestId: string): string | undefined {
      return gateway.logLines().find((line) => line.reqId === requestId)?.backend as string | undefined;
    }

    it('serves the HTML site: login, share, list, search, logout', async () => {
      const user = await createUser(system.legacyUrl);
      const browser = new Browser(gateway.url);
      const login = await browser.logIn(user.username, user.password);
      expect(login.status).toBe(302);
      expect(browser.cookies.has('session')).toBe(true);
      const marker = `through the gateway ${randomUUID()}`;
      expect((await browser.share(marker)).headers.get('location')).toBe('/thoughts/');
      expect(thoughtTextsOf(await (await browser.get('/thoughts/')).text())).toEqual([marker]);
      const search = await (await browser.get(`/search?search=${encodeURIComponent(marker.toUpperCase())}`)).text();
      expect(thoughtTextsOf(search)).toEqual([marker]);
      expect((await browser.get('/logout/')).headers.get('location')).toBe('/login/');
      expect((await browser.get('/thoughts/')).headers.get('location')).toBe('/login/');
    });

    it('serves the JSON API: login, own list, post, read back, search — the same bytes as the monolith', async () => {
      const login = await fetch(`${gateway.url}/api/login/`, { method: 'POST', body: new URLSearchParams({ username: 'bruce', password: 'password' }) });
      expect(login.status).toBe(200);
      const { Authorized } = (await login.json()) as { Authorized: string };
      const mine = await (await fetch(`${gateway.url}/api/me/thoughts/`, { headers: { authorization: Authorized } })).text();
      const direct = await (await fetch(`${system.legacyUrl}/api/me/thoughts/`, { headers: { authorization: Authorized } })).text();
      expect(mine).toBe(direct);
      const marker = `api-${randomUUID()}`;
      const posted = await fetch(`${gateway.url}/api/me/thoughts/`, {
        method: 'POST',
        headers: { authorization: Authorized, 'content-type': 'application/json' },
        body: JSON.stringify({ text: marker }),
      });
      expect(posted.status).toBe(201);
      const thought = (await posted.json()) as { id: number };
      const back = await fetch(`${gateway.url}/api/thoughts/${thought.id}/`);
      expect(((await back.json()) as { text: string }).text).toBe(marker);
      const found = (await (await fetch(`${gateway.url}/api/thoughts/?search=${marker.toUpperCase()}`)).json()) as unknown[];
      expect(found).toHaveLength(1);
    });

    it('keeps each client on one side, and splits clients as the plan says', async () => {
      const sides = new Set<string>();
      for (let client = 0; client < 30; client++) {
        let cookie = '';
        const served: string[] = [];
        for (let i = 0; i < 4; i++) {
          const requestId = randomUUID();
          const response = await fetch(`${gateway.url}/api/thoughts/1/`, { headers: { 'x-request-id': requestId, ...(cookie ? { cookie } : {}) } });
          expect(response.status).toBe(200);
          cookie ||= (response.headers.get('set-cookie') ?? '').split(';')[0]!;
          served.push(backendOf(requestId)!);
        }
        expect(new Set(served).size, `client ${client} was served by ${served.join(', ')}`).toBe(1);
        sides.add(served[0]!);
      }
      const expected = percent === 0 ? ['legacy'] : percent === 100 ? ['thoughts'] : ['legacy', 'thoughts'];
      expect([...sides].sort()).toEqual(expected);
    });

    it('counts each request under its route, backend and decision', async () => {
      const key = (route: string, backend: string, decision: string, code: string) =>
        `gateway_requests_total{backend="${backend}",code="${code}",decision="${decision}",route="${route}"}`;
      const before = await scrape(gateway);
      const requestId = randomUUID();
      await fetch(`${gateway.url}/api/thoughts/2/`, { headers: { 'x-request-id': requestId } });
      await fetch(`${gateway.url}/admin/users/`, { method: 'POST' });
      const after = await scrape(gateway);
      const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
      expect(delta(key('thoughts', backendOf(requestId)!, 'weight', '2xx'))).toBe(1);
      expect(delta(key('admin', 'none', 'deny', '4xx'))).toBe(1);
      expect(after.get(`gateway_route_weight_ratio{backend="thoughts",route="thoughts"}`)).toBe(percent / 100);
    });
  });
}

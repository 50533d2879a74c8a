import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape, type TestGateway } from '../../gateway/test/helpers/gateway.ts';
import { startGatewayInFront } from '../support/gatewayInFront.ts';
import { spawnBackEnd, type BackEndProcess } from '../support/processes.ts';
import { startSystem, type MyThoughtsSystem } from '../support/system.ts';
import { cohortCookie } from '../../gateway/test/helpers/cohort.ts';

describe('the thoughts service dies under load (thoughts at 100 %, fallback legacy)', () => {
  let system: MyThoughtsSystem;
  let gateway: TestGateway;
  let thoughts: BackEndProcess;

  beforeAll(async () => {
    system = await startSystem('sqlite');
    thoughts = await spawnBackEnd('services/thoughts/src/main.ts', 'THOUGHTS_PORT', system.env);
    gateway = await startGatewayInFront({ ...system, thoughtsUrl: thoughts.url }, { users: 100, thoughts: 100 });
  }, 60_000);
  afterAll(async () => {
    thoughts?.child.kill('SIGKILL');
    await gateway?.stop();
    await system?.stop();
  });

  it('fails no GET: the gateway retries each one on the monolith', async () => {
    const statuses = new Map<number, number>();
    let killed = false;
    const started = Date.now();
    // Four clients, each with its own cohort cookie, for a bounded 3 seconds; SIGKILL after 1 s.
    const client = async (n: number) => {
      const cookie = cohortCookie(`load-client-${n}`);
      while (Date.now() - started < 3000) {
        if (!killed && Date.now() - started > 1000) {
          killed = true;
          thoughts.child.kill('SIGKILL');
        }
        const path = n % 2 === 0 ? '/api/thoughts/' : '/api/thoughts/1/';
        const response = await fetch(`${gateway.url}${path}`, { headers: { cookie } });
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    };
    await Promise.all([0, 1, 2, 3].map(client));
    expect(killed).toBe(true);
    expect([...statuses.keys()]).toEqual([200]);
    const metrics = await scrape(gateway);
    const served = (backend: string, decision: string) =>
      [...metrics]
        .filter(([k]) => k.startsWith('gateway_requests_total{') && k.includes(`backend="${backend}"`) && k.includes(`decision="${decision}"`))
        .reduce((sum, [, v]) => sum + v, 0);
    expect(served('thoughts', 'weight')).toBeGreaterThan(0); // before the kill
    expect(served('legacy', 'fallback') + served('legacy', 'weight')).toBeGreaterThan(0); // after it
    const refused = [...metrics].find(([k]) => k.startsWith('gateway_upstream_errors_total{') && k.includes('backend="thoughts"'));
    expect(refused?.[1]).toBeGreaterThan(0);
  });
});

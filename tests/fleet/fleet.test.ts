// Three real gateway processes on one etcd store: `gateway fleet` shows them in sync, a
// replica whose own settings make the pushed plan invalid shows `rejected` with the
// validation message, a SIGKILLed replica drops out within its lease TTL (from the table and
// from the fleet metrics the rollout gates read), and the dashboard of replica A shows the
// traffic that only replica B served.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEtcd, type EtcdConnection } from '../../gateway/src/etcd/etcdConnection.ts';
import { etcdSettingsFromEnv } from '../../gateway/src/etcd/etcdSettings.ts';
import { fleetMetrics } from '../../gateway/src/fleet/fleetReader.ts';
import type { FleetStatus } from '../../gateway/src/fleet/fleetStatus.ts';
import { openPlanStore } from '../../gateway/src/plan/openPlanStore.ts';
import type { PlanStore } from '../../gateway/src/plan/planStore.ts';
import { startBackend, type TestBackend } from '../../gateway/test/helpers/backends.ts';
import { send } from '../../gateway/test/helpers/http.ts';
import { routesYaml } from '../../gateway/test/helpers/routes.ts';
import { hasChromium, openBrowserPage } from '../support/chromium.ts';
import { startThrowawayEtcd, type ThrowawayEtcd } from '../support/etcd.ts';
import { startFleetReplica, type FleetReplica } from '../support/fleetReplica.ts';
import { endProcess, runGateway } from '../support/gatewayProcess.ts';
import { eventually } from '../support/rolloutTraffic.ts';

const TTL_SECONDS = 2;
const META = { who: 'fleet test', via: 'cli', reason: null, dryRun: false } as const;

describe('a fleet of three gateway replicas on etcd', () => {
  let etcd: ThrowawayEtcd;
  let storeUrl: string;
  let connection: EtcdConnection;
  let store: PlanStore;
  let legacy: TestBackend;
  let thoughts: TestBackend;
  let dir: string;
  const replicas: FleetReplica[] = [];

  const plan = (extra = '') =>
    routesYaml(
      { legacy: legacy.url, thoughts: thoughts.url, ...(extra ? { reviews: 'http://127.0.0.1:9' } : {}) },
      `  - { name: thoughts, match: { path: /api/thoughts/** }, split: { thoughts: 50 } }\n${extra}  - { name: site, match: { path: /** }, split: {} }`,
    );

  async function startReplica(id: string, env: NodeJS.ProcessEnv = {}): Promise<FleetReplica> {
    const replica = await startFleetReplica(storeUrl, id, dir, { GATEWAY_FLEET_TTL_SECONDS: String(TTL_SECONDS), ...env });
    replicas.push(replica);
    return replica;
  }

  const gatewayFleet = (...args: string[]) => runGateway(['fleet', ...args], { GATEWAY_PLAN_STORE: storeUrl });

  const fleetJson = async () => JSON.parse((await gatewayFleet('--json')).stdout) as FleetStatus;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fleet-'));
    etcd = await startThrowawayEtcd();
    storeUrl = etcd.storeUrl();
    legacy = await startBackend('legacy');
    thoughts = await startBackend('thoughts');
    connection = connectEtcd(etcdSettingsFromEnv({ GATEWAY_PLAN_STORE: storeUrl })!);
    store = openPlanStore({ file: path.join(dir, 'unused-routes.yaml') }, connection);
    const pushed = await store.push(plan(), 'routes.yaml', META);
    expect(pushed.ok).toBe(true);
    await startReplica('replica-a');
    await startReplica('replica-b');
    // Its own URL for a back end the first plan does not have: a plan that adds it is invalid here alone.
    await startReplica('replica-c', { GATEWAY_BACKEND_REVIEWS_URL: 'ftp://reviews.example' });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => endProcess(replica.child)));
    store?.close();
    connection?.close();
    await Promise.all([legacy?.close(), thoughts?.close()]);
    await etcd?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gateway fleet shows the three replicas in sync with the store', async () => {
    const fleet = await eventually('three replicas in sync', 15_000, async () => {
      const status = await fleetJson();
      return status.replicas.length === 3 && status.replicas.every((r) => r.state === 'in sync') ? status : undefined;
    });
    expect(fleet.replicas.map((r) => r.id)).toEqual(['replica-a', 'replica-b', 'replica-c']);
    expect(fleet.replicas.map((r) => r.adminUrl)).toEqual(replicas.map((r) => r.adminUrl));
    expect(fleet.replicas.map((r) => r.pid)).toEqual(replicas.map((r) => r.child.pid));
    expect(fleet.replicas.every((r) => r.version === fleet.storeVersion && r.storeUp)).toBe(true);

    const table = await gatewayFleet();
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toBe(`store ${storeUrl} holds version ${fleet.storeVersion!.slice(0, 12)}; 3 replicas`);
    expect(lines[2]).toMatch(/^REPLICA +ADMIN +VERSION +STATE +SINCE +UPTIME$/);
    for (const replica of replicas)
      expect(lines.find((line) => line.startsWith(replica.id))).toMatch(
        new RegExp(`^${replica.id} +${replica.adminUrl} +${fleet.storeVersion!.slice(0, 12)} +in sync +\\d\\d:\\d\\d:\\d\\dZ +\\d+[smhd]`),
      );
  });

  it('a plan one replica cannot run: that replica rejected with the validation message, the others in sync on it', async () => {
    const pushed = await store.push(plan('  - { name: reviews, match: { path: /api/reviews/** }, split: { reviews: 100 } }\n'), 'routes.yaml', META);
    expect(pushed.ok).toBe(true);
    const newVersion = pushed.ok ? pushed.version : '';
    const fleet = await eventually('replica-c rejected, the others in sync', 15_000, async () => {
      const status = await fleetJson();
      const states = status.replicas.map((r) => `${r.id} ${r.state}`);
      return states.join(',') === 'replica-a in sync,replica-b in sync,replica-c rejected' ? status : undefined;
    });
    expect(fleet.storeVersion).toBe(newVersion);
    const rejected = fleet.replicas[2]!;
    expect(rejected.message).toContain("'ftp://reviews.example' (from GATEWAY_BACKEND_REVIEWS_URL): only http:// back ends are supported");
    expect(rejected.version).not.toBe(newVersion); // still serving the plan before

    const table = (await gatewayFleet()).stdout.split('\n');
    const row = table.findIndex((line) => line.startsWith('replica-c'));
    expect(table[row]).toMatch(/ rejected /);
    // The validation message, indented under its row.
    expect(table[row + 1]).toBe(`    ${storeUrl} is not a valid routes file:`);
    expect(table[row + 2]).toMatch(/^ {4}.*GATEWAY_BACKEND_REVIEWS_URL/);
  });

  it('the dashboard of replica A shows the fleet and the traffic only replica B served', async () => {
    const [a, b] = replicas;
    for (let i = 0; i < 40; i++) expect((await send(`${b!.url}/api/thoughts/${i}`)).status).toBe(200);
    const stats = await eventually("replica A's /api/stats counting B's 40 requests", 15_000, async () => {
      const answer = (await (await fetch(`${a!.adminUrl}/api/stats`)).json()) as { replicas: number; routes: { name: string; requests: number }[] };
      return answer.routes.find((r) => r.name === 'thoughts')?.requests === 40 ? answer : undefined;
    });
    expect(stats.replicas).toBe(3);
    // Replica A itself served none of them.
    expect(await (await fetch(`${a!.adminUrl}/metrics`)).text()).not.toMatch(/^gateway_requests_total\{route="thoughts"/m);

    if (!hasChromium) return;
    const browser = await openBrowserPage(1280, 1400);
    try {
      const { page } = browser;
      await page.goto(a!.adminUrl);
      await page.locator('#fleet-card').waitFor({ state: 'visible' });
      await expect.poll(() => page.locator('#fleet-rows tr').count(), { timeout: 10_000 }).toBe(3);
      expect(await page.locator('#fleet-rows tr[data-replica="replica-c"] .badge.fleet').textContent()).toBe('rejected');
      expect(await page.locator('#fleet-rows tr[data-replica="replica-c"] .fleet-message').textContent()).toContain('GATEWAY_BACKEND_REVIEWS_URL');
      expect(await page.locator('#window-note').textContent()).toContain('all 3 replicas of the fleet');
      const thoughtsRow = page.locator('[data-route="thoughts"] tr[data-backend]');
      expect(await thoughtsRow.count()).toBeGreaterThan(0);
      const rates = await thoughtsRow.evaluateAll((rows) => rows.map((row) => row.children[1]!.textContent));
      expect(rates.some((rate) => rate !== '—' && Number(rate) > 0)).toBe(true);
      await browser.screenshot('fleet-dashboard.png');
      expect(browser.problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('a SIGKILLed replica drops out of gateway fleet and of the fleet metrics within its lease TTL', async () => {
    const metrics = fleetMetrics(connection.keys);
    expect([...(await metrics()).keys()]).toEqual(['replica-a', 'replica-b', 'replica-c']);
    expect([...(await metrics()).values()].every((published) => published !== null && published.some((m) => m.name === 'gateway_requests_total'))).toBe(true);
    const killed = replicas[1]!;
    await endProcess(killed.child, 'SIGKILL');
    const fleet = await eventually('replica-b gone from gateway fleet', 20_000, async () => {
      const status = await fleetJson();
      return status.replicas.length === 2 ? status : undefined;
    });
    expect(fleet.replicas.map((r) => r.id)).toEqual(['replica-a', 'replica-c']);
    expect([...(await metrics()).keys()]).toEqual(['replica-a', 'replica-c']);
    expect((await gatewayFleet()).stdout.split('\n')[0]).toMatch(/; 2 replicas$/);
  });
});

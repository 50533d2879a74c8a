// A gateway with GATEWAY_WORKERS=2 on the etcd store, beside a single-process replica: the
// cluster is ONE replica of the fleet (`gateway fleet` shows it once, with its primary's admin
// URL and pid), its workers serve the store's plan, and a shift made through the other
// replica reaches every worker: requests dealt out to both workers all follow it, and the
// fleet's numbers count what they served; a plan its workers refuse shows it `rejected`; and
// SIGTERMed, it shows `draining` (once) until it has stopped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetStatus } from '../../gateway/src/fleet/fleetStatus.ts';
import { openPlanStore } from '../../gateway/src/plan/openPlanStore.ts';
import type { PlanStore } from '../../gateway/src/plan/planStore.ts';
import { startBackend, type TestBackend } from '../../gateway/test/helpers/backends.ts';
import { serveWithWorkers, type Cluster } from '../../gateway/test/helpers/cluster.ts';
import { cohortCookie } from '../../gateway/test/helpers/cohort.ts';
import { send } from '../../gateway/test/helpers/http.ts';
import { routesYaml } from '../../gateway/test/helpers/routes.ts';
import { startThrowawayEtcd, type ThrowawayEtcd } from '../support/etcd.ts';
import { startFleetReplica, type FleetReplica } from '../support/fleetReplica.ts';
import { endProcess, runGateway } from '../support/gatewayProcess.ts';
import { eventually } from '../support/rolloutTraffic.ts';

let etcd: ThrowawayEtcd;
let legacy: TestBackend;
let thoughts: TestBackend;
let dir: string;
let storeUrl: string;
let cluster: Cluster | undefined;
let single: FleetReplica | undefined;
let store: PlanStore;

beforeAll(async () => {
  [etcd, legacy, thoughts] = await Promise.all([startThrowawayEtcd(), startBackend('legacy'), startBackend('thoughts')]);
  dir = mkdtempSync(path.join(tmpdir(), 'fleet-cluster-'));
  storeUrl = etcd.storeUrl();
  store = openPlanStore({ file: 'routes.yaml' }, etcd.connect(storeUrl));
  const pushed = await store.push(plan(0), 'routes.yaml', { who: 'test', via: 'cli', reason: null, dryRun: false });
  expect(pushed.ok, JSON.stringify(pushed)).toBe(true);
}, 60_000);

/** The plan: the thoughts API at `percent` %; with `reviews`, a back end the cluster's own settings make invalid. */
function plan(percent: number, reviews = false): string {
  return routesYaml(
    { legacy: legacy.url, thoughts: thoughts.url, ...(reviews ? { reviews: 'http://127.0.0.1:9' } : {}) },
    `  - { name: thoughts, match: { path: /api/thoughts/** }, split: { thoughts: ${percent} } }
${reviews ? '  - { name: reviews, match: { path: /api/reviews/** }, split: { reviews: 100 } }\n' : ''}  - { name: site, match: { path: /** }, split: {} }`,
  );
}

afterAll(async () => {
  await cluster?.stop();
  if (single) await endProcess(single.child);
  await Promise.all([etcd?.close(), legacy?.close(), thoughts?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

/** What `gateway fleet --json` says once both replicas serve the store's plan (other than `not`). */
const fleetInSync = (not: string | null = null) =>
  eventually('both replicas in sync with the store', 20_000, async () => {
    const run = await runGateway(['fleet', '--json'], { GATEWAY_PLAN_STORE: storeUrl });
    const fleet = JSON.parse(run.stdout) as FleetStatus;
    const settled = fleet.storeVersion !== not && fleet.replicas.length === 2 && fleet.replicas.every((r) => r.state === 'in sync');
    return settled ? fleet : undefined;
  });

describe('a gateway with two workers in a fleet on etcd', () => {
  it('appears once in gateway fleet, and a shift made through another replica reaches both its workers', async () => {
    cluster = await serveWithWorkers(path.join(dir, 'unused-routes.yaml'), {
      GATEWAY_PLAN_STORE: storeUrl,
      GATEWAY_REPLICA_ID: 'gw-cluster',
      GATEWAY_FLEET_TTL_SECONDS: '2',
      GATEWAY_PLAN_CACHE: path.join(dir, 'gw-cluster-plan-cache.yaml'),
      // Its own URL for a back end the first plan does not have: a plan that adds it is invalid on its workers alone.
      GATEWAY_BACKEND_REVIEWS_URL: 'ftp://reviews.example',
      // Its drain at SIGTERM (the last test): long enough to be seen, within the primary's bound on its workers' exit.
      GATEWAY_DRAIN_DELAY_MS: '8000',
    });
    single = await startFleetReplica(storeUrl, 'gw-single', dir, { GATEWAY_FLEET_TTL_SECONDS: '2' });
    const singleAdmin = single.adminUrl;

    const before = await fleetInSync();
    expect(before.replicas.map((r) => [r.id, r.adminUrl, r.pid])).toEqual([
      ['gw-cluster', cluster.adminUrl, cluster.child.pid],
      ['gw-single', singleAdmin, single.child.pid],
    ]);

    // The shift the dashboard of the other replica makes (its admin API writes to the store).
    const shifted = await send(`${singleAdmin}/api/routes/thoughts/split`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ backend: 'thoughts', percent: 100, by: 'ops', reason: 'every client' }),
    });
    expect(shifted.status, shifted.body).toBe(200);
    // In sync: the cluster's registration says so only once its slowest worker serves the new plan.
    const after = await fleetInSync(before.storeVersion);
    expect(after.replicas.map((r) => r.id)).toEqual(['gw-cluster', 'gw-single']);

    // Every request on a new connection, so the primary deals them out to both workers.
    for (let i = 0; i < 40; i++) {
      const reply = await send(`${cluster.url}/api/thoughts/${i}`, { headers: { connection: 'close', cookie: cohortCookie(`client-${i}`) } });
      expect([reply.status, reply.json<{ backend: string }>().backend]).toEqual([200, 'thoughts']);
    }
    const served = await eventually('the 40 requests in the access log', 10_000, () => {
      const lines = cluster!.lines().filter((line) => line.msg === 'request' && String(line.path).startsWith('/api/thoughts/'));
      return lines.length === 40 ? lines : undefined;
    });
    expect(new Set(served.map((line) => line.pid)).size).toBe(2);
    expect(new Set(served.map((line) => line.backend))).toEqual(new Set(['thoughts']));

    // The workers publish their numbers for the fleet: the other replica's /api/stats counts
    // their 40 requests, from two replicas.
    const stats = await eventually("the other replica's /api/stats counting the cluster's requests", 15_000, async () => {
      const answer = (await send(`${singleAdmin}/api/stats`)).json<{ replicas: number; routes: { name: string; requests: number }[] }>();
      return answer.routes.find((r) => r.name === 'thoughts')?.requests === 40 ? answer : undefined;
    });
    expect(stats.replicas).toBe(2);
  }, 90_000);

  it('a plan its workers cannot run: the gateway shows rejected, once, with the message, and keeps serving the plan before', async () => {
    const pushed = await store.push(plan(100, true), 'routes.yaml', { who: 'test', via: 'cli', reason: 'adds reviews', dryRun: false });
    expect(pushed.ok, JSON.stringify(pushed)).toBe(true);
    const fleet = await eventually('the cluster rejected, the other replica in sync', 20_000, async () => {
      const status = JSON.parse((await runGateway(['fleet', '--json'], { GATEWAY_PLAN_STORE: storeUrl })).stdout) as FleetStatus;
      return status.replicas.map((r) => `${r.id} ${r.state}`).join(',') === 'gw-cluster rejected,gw-single in sync' ? status : undefined;
    });
    expect(fleet.replicas[0]!.message).toContain("'ftp://reviews.example' (from GATEWAY_BACKEND_REVIEWS_URL): only http:// back ends are supported");
    expect(fleet.replicas[0]!.version).not.toBe(fleet.storeVersion);
    for (let i = 0; i < 10; i++) {
      const reply = await send(`${cluster!.url}/api/thoughts/${i}`, { headers: { connection: 'close', cookie: cohortCookie(`client-${i}`) } });
      expect([reply.status, reply.json<{ backend: string }>().backend]).toEqual([200, 'thoughts']);
    }
  });

  it('SIGTERMed, the gateway shows draining, once, while its workers drain; then it leaves the fleet', async () => {
    const stopping = cluster!;
    cluster = undefined;
    stopping.child.kill('SIGTERM');
    const fleet = () => runGateway(['fleet', '--json'], { GATEWAY_PLAN_STORE: storeUrl }).then((run) => JSON.parse(run.stdout) as FleetStatus);
    const draining = await eventually('the cluster draining in gateway fleet', 20_000, async () => {
      const status = await fleet();
      return status.replicas.some((r) => r.draining) ? status : undefined;
    });
    expect(draining.replicas.map((r) => [r.id, r.draining])).toEqual([
      ['gw-cluster', true],
      ['gw-single', false],
    ]);
    expect(await stopping.exited).toBe(0);
    expect((await fleet()).replicas.map((r) => r.id)).toEqual(['gw-single']);
  }, 60_000);
});

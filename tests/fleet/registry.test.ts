// The fleet's control plane on a real etcd: each member registers on a lease of its own and
// publishes its numbers there; the readers see exactly the live members; a member that
// leaves is gone at once, and one whose lease is lost (etcd away beyond the TTL) comes back.
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmOnFleet } from '../../gateway/src/cli/fleetConfirm.ts';
import { ETCD_KEYS } from '../../gateway/src/etcd/etcdConnection.ts';
import { fleetMetrics, listReplicas, readFleet } from '../../gateway/src/fleet/fleetReader.ts';
import type { FleetStatus } from '../../gateway/src/fleet/fleetStatus.ts';
import { joinFleet, type FleetMember } from '../../gateway/src/fleet/joinFleet.ts';
import { TrafficWindow } from '../../gateway/src/observe/trafficWindow.ts';
import { versionOf } from '../../gateway/src/plan/auditedPlanStore.ts';
import { MismatchStore } from '../../gateway/src/shadow/mismatchStore.ts';
import { NoiseModel } from '../../gateway/src/shadow/noiseModel.ts';
import { startThrowawayEtcd, type ThrowawayEtcd } from '../support/etcd.ts';
import { runGateway } from '../support/gatewayProcess.ts';
import { eventually } from '../support/rolloutTraffic.ts';

let etcd: ThrowawayEtcd;
beforeAll(async () => {
  etcd = await startThrowawayEtcd();
});
afterAll(async () => {
  await etcd?.close();
});

/** A member with its own registry holding `attempts` on the thoughts route. */
async function member(storeUrl: string, id: string, attempts: number, ttlSeconds = 5): Promise<{ member: FleetMember; window: TrafficWindow }> {
  const registry = new Registry();
  const counter = new Counter({ name: 'gateway_backend_attempts_total', help: 'attempts', labelNames: ['route', 'backend', 'result'], registers: [registry] });
  counter.inc({ route: 'thoughts', backend: 'thoughts', result: 'ok' }, attempts);
  const window = new TrafficWindow();
  for (let i = 0; i < attempts; i++) window.record('thoughts', 'thoughts', 200, 5);
  const joined = await joinFleet({
    keys: etcd.connect(storeUrl).keys,
    settings: { replicaId: id, advertiseAdminUrl: null, ttlSeconds, publishIntervalMs: 200 },
    registration: { adminUrl: `http://127.0.0.1:99${attempts}`, publicUrl: 'http://127.0.0.1:8080', servedVersion: 'a'.repeat(64) },
    numbers: {
      registry,
      window,
      recentClients: () => ({ file: storeUrl, salt: 'fleet', windowSeconds: 300, groups: { thoughts: [attempts] } }),
      shadowFindings: { store: new MismatchStore(), noise: new NoiseModel() },
    },
    logger: pino({ level: 'silent' }),
  });
  return { member: joined, window };
}

describe('fleet registry and metrics', () => {
  it('lists every member with its record and publishes its metrics keyed by replica id; a member that leaves is gone at once', async () => {
    const store = etcd.storeUrl();
    const reader = etcd.connect(store).keys;
    const a = await member(store, 'replica-a', 3);
    const b = await member(store, 'replica-b', 4);

    const replicas = await listReplicas(reader);
    expect(replicas.map((r) => r.id)).toEqual(['replica-a', 'replica-b']);
    expect(replicas[0]).toMatchObject({
      adminUrl: 'http://127.0.0.1:993',
      publicUrl: 'http://127.0.0.1:8080',
      pid: process.pid,
      plan: { version: 'a'.repeat(64) },
      rejected: null,
      storeUp: true,
    });

    const metrics = await fleetMetrics(reader)();
    expect([...metrics.keys()]).toEqual(['replica-a', 'replica-b']);
    const attemptsOf = (id: string) => metrics.get(id)!.find((m) => m.name === 'gateway_backend_attempts_total')!.values[0]!.value;
    expect([attemptsOf('replica-a'), attemptsOf('replica-b')]).toEqual([3, 4]);

    const fleet = await readFleet(reader);
    expect(fleet.traffic.get('replica-b')!.routes.thoughts!.thoughts!.requests).toBe(4);
    expect(fleet.clients.get('replica-a')).toEqual({ file: store, salt: 'fleet', windowSeconds: 300, groups: { thoughts: [3] } });

    await b.member.close();
    expect((await listReplicas(reader)).map((r) => r.id)).toEqual(['replica-a']);
    expect([...(await fleetMetrics(reader)()).keys()]).toEqual(['replica-a']);
    await a.member.close();
  });

  it('updates the record when the served plan changes, a plan is rejected or the replica starts draining', async () => {
    const store = etcd.storeUrl();
    const reader = etcd.connect(store).keys;
    const { member: a } = await member(store, 'replica-a', 1);
    await a.registry!.planServed('b'.repeat(64));
    await a.registry!.planRejected('c'.repeat(64), 'routes.yaml:3: backends.reviews.url: not a URL');
    const [record] = await listReplicas(reader);
    expect(record!.plan.version).toBe('b'.repeat(64));
    expect(record!.rejected).toMatchObject({ version: 'c'.repeat(64), message: 'routes.yaml:3: backends.reviews.url: not a URL' });
    expect(record!.draining).toBe(false);
    await a.registry!.drain();
    expect((await listReplicas(reader))[0]).toMatchObject({ id: 'replica-a', draining: true, plan: { version: 'b'.repeat(64) } });
    await a.close();
  });

  it('registers again on a new lease when etcd was away longer than the TTL', async () => {
    const store = etcd.storeUrl();
    const reader = etcd.connect(store).keys;
    const { member: a } = await member(store, 'replica-a', 2, 1);
    const leaseOf = async () => (await reader.get(`${ETCD_KEYS.replicas}replica-a`).exec()).kvs[0]?.lease;
    const before = await leaseOf();
    await etcd.stop();
    // An outage of more than twice the TTL: the client gives its lease up (etcd, once back,
    // lets its own copy expire since nobody renews it).
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await etcd.start();
    const after = await eventually('replica-a registered again on a new lease', 15_000, async () => {
      const lease = await leaseOf().catch(() => undefined);
      return lease !== undefined && lease !== before ? lease : undefined;
    });
    expect(after).not.toBe('0');
    expect((await listReplicas(reader)).map((r) => r.id)).toEqual(['replica-a']);
    expect([...(await fleetMetrics(reader)()).keys()]).toEqual(['replica-a']);
    await a.close();
  });
});

describe('gateway fleet', () => {
  it('prints each member against the store version: in sync, behind, rejected with the message; --json', async () => {
    const store = etcd.storeUrl();
    const writer = etcd.connect(store).keys;
    await writer.put(ETCD_KEYS.plan).value(PLAN);
    const current = versionOf(PLAN);
    const { member: a } = await member(store, 'replica-a', 1);
    const { member: b } = await member(store, 'replica-b', 2);
    const { member: c } = await member(store, 'replica-c', 3);
    await a.registry!.planServed(current);
    await b.registry!.planServed(current);
    await b.registry!.planRejected('f'.repeat(64), 'an older refusal, no longer the store version');
    await c.registry!.planRejected(
      current,
      "routes.yaml:4: backends.reviews.url: 'ftp://x' (from GATEWAY_BACKEND_REVIEWS_URL): only http:// back ends are supported",
    );

    const text = await gatewayFleet(store);
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toBe(`store ${store} holds version ${current.slice(0, 12)}; 3 replicas`);
    expect(lines.find((line) => line.startsWith('replica-a'))).toMatch(
      new RegExp(`^replica-a +http://127.0.0.1:991 +${current.slice(0, 12)} +in sync +\\d\\d:\\d\\d:\\d\\dZ +\\d+s$`),
    );
    expect(lines.find((line) => line.startsWith('replica-b'))).toMatch(/ in sync /);
    expect(lines.find((line) => line.startsWith('replica-c'))).toMatch(new RegExp(` ${'a'.repeat(12)} +rejected `));
    expect(lines).toContain("    routes.yaml:4: backends.reviews.url: 'ftp://x' (from GATEWAY_BACKEND_REVIEWS_URL): only http:// back ends are supported");

    const json = JSON.parse((await gatewayFleet(store, '--json')).stdout) as FleetStatus & { store: string };
    expect(json.store).toBe(store);
    expect(json.storeVersion).toBe(current);
    expect(json.replicas.map((r) => [r.id, r.state])).toEqual([
      ['replica-a', 'in sync'],
      ['replica-b', 'in sync'],
      ['replica-c', 'rejected'],
    ]);
    expect(json.replicas[2]).toMatchObject({
      version: 'a'.repeat(64),
      message: expect.stringContaining('GATEWAY_BACKEND_REVIEWS_URL'),
      adminUrl: 'http://127.0.0.1:993',
      pid: process.pid,
    });
    expect(json.replicas[0]!.uptimeSeconds).toBeGreaterThanOrEqual(0);

    await writer.put(ETCD_KEYS.plan).value(`${PLAN}# a newer plan\n`);
    expect((await gatewayFleet(store, '--json')).stdout).toContain('"state": "behind"');
    for (const m of [a, b, c]) await m.close();
    expect((await gatewayFleet(store)).stdout).toContain('no live replica is registered under this prefix');
  });

  it('shows a draining member as draining; a plan change does not wait for it to catch up', async () => {
    const store = etcd.storeUrl();
    const connection = etcd.connect(store);
    await connection.keys.put(ETCD_KEYS.plan).value(PLAN);
    const current = versionOf(PLAN);
    const { member: a } = await member(store, 'replica-a', 1);
    const { member: b } = await member(store, 'replica-b', 2);
    await a.registry!.planServed(current);
    await b.registry!.drain(); // and never serves `current`: behind for good

    // A minute of wait allowed: it answers as soon as replica-a serves the version (well within the test's timeout).
    const confirmation = await confirmOnFleet(connection, current, 60_000);
    expect(confirmation.problem).toBeNull();
    expect(confirmation.lines[0]).toBe(`Version ${current.slice(0, 12)}: served by 1 of 2 replicas of the fleet.`);
    const lines = (await gatewayFleet(store)).stdout.split('\n');
    expect(lines.find((line) => line.startsWith('replica-a'))).toMatch(/ in sync /);
    expect(lines.find((line) => line.startsWith('replica-b'))).toMatch(new RegExp(` ${'a'.repeat(12)} +behind, draining `));
    const json = JSON.parse((await gatewayFleet(store, '--json')).stdout) as FleetStatus;
    expect(json.replicas.map((r) => [r.id, r.state, r.draining])).toEqual([
      ['replica-a', 'in sync', false],
      ['replica-b', 'behind', true],
    ]);
    for (const m of [a, b]) await m.close();
  });

  it('says that a fleet needs the etcd store when GATEWAY_PLAN_STORE is unset, and has --help', async () => {
    const without = await gatewayFleet(null);
    expect(without.code).toBe(1);
    expect(without.stderr).toContain('a fleet needs the etcd store: set GATEWAY_PLAN_STORE=etcd://HOST:PORT/PREFIX');
    const help = await gatewayFleet(null, '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: gateway fleet [--json]');
  });
});

const PLAN = 'backends:\n  legacy: { url: http://127.0.0.1:8001, legacy: true }\nroutes:\n  - { name: all, match: { path: /** }, split: {} }\n';

const gatewayFleet = (store: string | null, ...args: string[]) => runGateway(['fleet', ...args], { GATEWAY_PLAN_STORE: store ?? '' });

// One progressive rollout for a fleet: three `gateway serve` processes on one etcd store
// (GATEWAY_PLAN_STORE), the real monolith and thoughts service behind the switchable stand-in,
// clients reading through every replica. Only the elected leader steps; the gates are the
// fleet's (every replica's published counters summed); every step is in the store's audit
// exactly once — also when the leader is SIGKILLed mid-rollout (the next leader resumes the
// same step from the progress in etcd) or frozen past its lease (SIGSTOP: it is deposed, and
// once it runs again it writes nothing) or stopped gracefully (SIGTERM: it hands over at once, shows
// "draining" in `gateway fleet` and is not waited for) — and a failing new backend is rolled back whichever
// replicas deal it traffic. What is asserted is what an operator sees: the admin API of any
// replica, `gateway rollout status`, the store's audit (each rollout entry naming the replica
// that wrote it), a follower's and the leader's dashboards in Chromium (the leader, then
// "holding" while etcd is stopped), and /metrics (only the leader reports the rollout's state;
// an ex-leader, handed over or deposed, reports none).
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../../gateway/test/helpers/http.ts';
import { parseMetrics } from '../../gateway/test/helpers/routes.ts';
import type { EtcdConnection } from '../../gateway/src/etcd/etcdConnection.ts';
import { fleetMetrics } from '../../gateway/src/fleet/fleetReader.ts';
import type { FleetStatus } from '../../gateway/src/fleet/fleetStatus.ts';
import type { AuditEntry } from '../../gateway/src/plan/auditLog.ts';
import { openPlanStore } from '../../gateway/src/plan/openPlanStore.ts';
import type { PlanStore } from '../../gateway/src/plan/planStore.ts';
import type { RolloutView } from '../../gateway/src/rollout/rolloutView.ts';
import { hasChromium, openBrowserPage } from '../support/chromium.ts';
import { startThrowawayEtcd, type ThrowawayEtcd } from '../support/etcd.ts';
import { endProcess, GATEWAY_BIN, spawnGateway } from '../support/gatewayProcess.ts';
import { freePort } from '../support/ports.ts';
import { waitHealthy } from '../support/processes.ts';
import { rolloutPlan, startRolloutBackends, type RolloutBackends } from '../support/rolloutBackends.ts';
import { eventually, startTraffic, type Traffic } from '../support/rolloutTraffic.ts';

/** Lease TTL of every candidate: a dead leader is replaced within it (+ 1 s). */
const TTL_SECONDS = 2;
const GATES = 'interval_seconds: 1, min_requests: 5, min_comparisons: 10, max_error_percent: 1, max_p95_ms: 3000, max_p95_ratio: 50, max_mismatch_percent: 1';

interface Replica {
  readonly id: string;
  readonly url: string;
  readonly adminUrl: string;
  readonly env: NodeJS.ProcessEnv;
  process?: ChildProcess;
}

let etcd: ThrowawayEtcd;
let backends: RolloutBackends;
let dir: string;
let store: string;
/** The fleet's store, as the CLI opens it. */
let planStore: PlanStore;
/** The test's own client on `store`, for what etcd holds (the fleet's published metrics). */
let storeKeys: EtcdConnection['keys'];
let replicas: Replica[] = [];
let traffic: Traffic | undefined;

beforeAll(async () => {
  [etcd, backends] = await Promise.all([startThrowawayEtcd(), startRolloutBackends()]);
}, 60_000);

afterEach(async () => {
  for (const replica of live()) replica.process!.kill('SIGCONT'); // a test that failed with one frozen
  await traffic?.stop();
  traffic = undefined;
  for (const replica of replicas) if (replica.process) await endProcess(replica.process, 'SIGKILL');
  replicas = [];
  rmSync(dir, { recursive: true, force: true });
  await backends.standIn.set({ mode: 'transparent' });
});

afterAll(async () => {
  await backends?.stop();
  await etcd?.close();
});

/** A fresh store (its own prefix) holding the rollout plan, and three replicas' settings. */
async function newFleet(rollout: string): Promise<void> {
  dir = mkdtempSync(path.join(tmpdir(), 'rollout-fleet-'));
  store = etcd.storeUrl();
  const connection = etcd.connect(store);
  storeKeys = connection.keys;
  planStore = openPlanStore({ file: 'routes.yaml' }, connection);
  const pushed = await planStore.push(rolloutPlan(backends, { rollout: `${rollout}, ${GATES}` }), 'routes.yaml', {
    who: 'test',
    via: 'cli',
    reason: 'the rollout plan',
    dryRun: false,
  });
  expect(pushed.ok, JSON.stringify(pushed)).toBe(true);
  for (const id of ['r1', 'r2', 'r3']) {
    const [port, adminPort] = [await freePort(), await freePort()];
    replicas.push({
      id,
      url: `http://127.0.0.1:${port}`,
      adminUrl: `http://127.0.0.1:${adminPort}`,
      env: {
        GATEWAY_PLAN_STORE: store,
        GATEWAY_REPLICA_ID: id,
        GATEWAY_FLEET_TTL_SECONDS: String(TTL_SECONDS),
        GATEWAY_FLEET_PUBLISH_MS: '200',
        GATEWAY_PLAN_CACHE: path.join(dir, `${id}-plan-cache.yaml`),
        GATEWAY_PORT: String(port),
        GATEWAY_ADMIN_PORT: String(adminPort),
      },
    });
  }
}

async function startReplica(replica: Replica): Promise<void> {
  replica.process = spawnGateway(['serve'], path.join(dir, 'unused-routes.yaml'), replica.env);
  await waitHealthy(`${replica.adminUrl}/readyz`, replica.process);
}

/** The three replicas one after the other (r1 campaigns first, so it leads), then clients on `through` (default all three). */
async function startFleet(through: (r: Replica) => boolean = () => true): Promise<void> {
  for (const replica of replicas) await startReplica(replica);
  traffic = startTraffic(replicas.filter(through).map((r) => r.url));
}

const live = () => replicas.filter((r) => r.process && r.process.exitCode === null && r.process.signalCode === null);

async function status(replica: Replica): Promise<RolloutView> {
  const reply = await send(`${replica.adminUrl}/api/rollout/thoughts`);
  expect(reply.status, reply.body).toBe(200);
  return reply.json<RolloutView>();
}

/** The store's rollout entries, oldest first: as `replica`'s /api/audit shows them, or read from the store itself. */
async function rolloutAudit(replica?: Replica): Promise<AuditEntry[]> {
  let entries: readonly AuditEntry[];
  if (replica) {
    const reply = await send(`${replica.adminUrl}/api/audit?limit=100`);
    expect(reply.status, reply.body).toBe(200);
    entries = reply.json<{ entries: AuditEntry[] }>().entries;
  } else entries = (await planStore.auditReport(100)).entries;
  return entries.filter((a) => a.via === 'rollout').reverse();
}

/** The store's audit, oldest first, one `action old→new` per entry. */
const audit = async (replica?: Replica) => (await rolloutAudit(replica)).map((a) => `${a.action} ${a.old.thoughts}→${a.new.thoughts}`);

/** Who wrote each rollout entry of the store's audit, oldest first. */
const auditWriters = async (replica?: Replica) => (await rolloutAudit(replica)).map((a) => a.who);

/** The rollout's entries name the replica that wrote them: `first`'s (at least the first step), then only `second`'s. */
async function expectWrittenBy(first: Replica, second: Replica, asked?: Replica): Promise<void> {
  const writers = await auditWriters(asked);
  expect(writers[0]).toBe(`rollout@${first.id}`);
  expect(writers).toEqual([...writers.filter((w) => w === `rollout@${first.id}`), ...writers.filter((w) => w === `rollout@${second.id}`)]);
}

/** The rollout's state series on `replica`'s /metrics, e.g. `gateway_rollout_state{route="thoughts",state="completed"}`. */
async function rolloutStateOn(replica: Replica): Promise<string[]> {
  const reply = await send(`${replica.adminUrl}/metrics`);
  expect(reply.status).toBe(200);
  return [...parseMetrics(reply.body).keys()].filter((series) => /^gateway_rollout_(state|percent|gate_value)\{/.test(series));
}

/** The replicas whose metrics, as published in etcd for the fleet, hold a rollout state. */
async function publishingRolloutState(): Promise<string[]> {
  const published = await fleetMetrics(storeKeys)();
  return [...published]
    .filter(([, metrics]) => metrics?.some((family) => family.name === 'gateway_rollout_state' && family.values.length > 0))
    .map(([id]) => id);
}

/** What `gateway fleet` prints (or `--json`) for the store, as an operator runs it. */
async function gatewayFleet(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [GATEWAY_BIN, 'fleet', ...args], { env: { ...process.env, GATEWAY_PLAN_STORE: store } });
  return stdout;
}

const until = (what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 30_000) =>
  eventually(what, timeoutMs, async () => ((await probe()) ? true : undefined));

/** The leader `replica` names: null while it cannot tell (an election under way, the leader not answering). */
async function leaderNamedBy(replica: Replica): Promise<string | null> {
  const reply = await send(`${replica.adminUrl}/api/rollout/thoughts`);
  return reply.status === 200 ? reply.json<RolloutView>().leader : null;
}

/** The leader every replica in `asked` (default: the live ones) names, once they agree. */
async function agreedLeader(asked = live()): Promise<Replica> {
  const id = await eventually('the replicas name the same leader', 20_000, async () => {
    const named = new Set(await Promise.all(asked.map(leaderNamedBy)));
    return named.size === 1 && !named.has(null) ? [...named][0]! : undefined;
  });
  return replicas.find((r) => r.id === id)!;
}

/**
 * The dashboards of `follower` and of the leader r1 in Chromium: each Rollouts panel names the
 * leader, and with etcd stopped says the rollout holds, as `gateway rollout status` does; once
 * etcd is back the hold ends.
 */
async function dashboardsWhileEtcdStopped(follower: Replica, leader: Replica): Promise<void> {
  // With etcd away the fleet's numbers and audit answer 503 (the page says so): those console errors are expected.
  const browser = await openBrowserPage(1360, 1100, (text) => text.includes('503'));
  try {
    const { page } = browser;
    const leaderPage = await browser.browser.newPage({ viewport: { width: 1360, height: 1100 } });
    await Promise.all([page.goto(follower.adminUrl), leaderPage.goto(leader.adminUrl)]);
    /** What the thoughts panel of each page (the follower's, the leader's) shows as `testid`. */
    const shown = (testid: string) =>
      Promise.all([page, leaderPage].map((p) => p.locator(`[data-rollout="thoughts"] [data-testid="${testid}"]`).allTextContents()));
    const named = ["leader r1 (the fleet's rollout controller)"];
    await expect.poll(() => shown('rollout-leader'), { timeout: 20_000 }).toEqual([named, named]);
    expect(await shown('rollout-holding')).toEqual([[], []]);
    // The history names the replica that wrote each rollout entry.
    await expect.poll(() => page.locator('#audit .why').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^rollout@r1 via rollout/)]));
    await etcd.stop();
    try {
      const holds = [expect.stringMatching(/^holding the plan store \(etcd\) does not answer: no step and no rollback/)];
      await expect.poll(() => shown('rollout-holding'), { timeout: 20_000 }).toEqual([holds, holds]);
      expect(await shown('rollout-leader')).toEqual([named, named]);
      expect(await shown('rollout-status')).toEqual([['rolled back'], ['rolled back']]);
      await browser.screenshot('rollout-fleet-holding.png');
      const cli = await promisify(execFile)(process.execPath, [GATEWAY_BIN, 'rollout', 'status', 'thoughts'], {
        env: { ...process.env, GATEWAY_ADMIN_URL: follower.adminUrl },
      });
      expect(cli.stdout).toContain("  leader      r1 (the fleet's rollout controller)");
      expect(cli.stdout).toContain('  holding     the plan store (etcd) does not answer: no step and no rollback');
    } finally {
      await etcd.start();
    }
    await expect.poll(() => shown('rollout-holding'), { timeout: 30_000 }).toEqual([[], []]);
    expect(browser.problems).toEqual([]);
  } finally {
    await browser.close();
  }
}

/** The Fleet panel of `asked`'s dashboard in Chromium marks `draining` as draining, as `gateway fleet` does. */
async function dashboardShowsDraining(asked: Replica, draining: Replica): Promise<void> {
  const browser = await openBrowserPage(1360, 1100);
  try {
    await browser.page.goto(asked.adminUrl);
    const state = (replica: Replica) => browser.page.locator(`#fleet-rows [data-replica="${replica.id}"] .fleet-state .badge`).allTextContents();
    await expect.poll(() => state(draining), { timeout: 20_000 }).toEqual(['in sync', 'draining']);
    expect(await state(asked)).toEqual(['in sync']);
    await browser.screenshot('fleet-draining.png');
    expect(browser.problems).toEqual([]);
  } finally {
    await browser.close();
  }
}

describe('a rollout for a fleet of three replicas on etcd', () => {
  it('steps each step once across the fleet, on the fleet-wide numbers; a SIGKILLed leader is replaced and the next one resumes the same step', async () => {
    await newFleet('steps: [5, 25, 50, 100], failure_limit: 2');
    // No client reaches the leader (r1): its checks can pass only on the other replicas' numbers.
    await startFleet((r) => r.id !== 'r1');
    const first = await agreedLeader();
    expect(first.id).toBe('r1');
    await until('25 %', async () => (await status(replicas[2]!)).percent >= 25);
    const view = await status(replicas[1]!);
    expect(view.leader).toBe('r1');
    expect(view.lastCheck!.gates.find((g) => g.gate === 'requests')!.verdict).toBe('pass');

    await endProcess(first.process!, 'SIGKILL');
    const killedAt = Date.now();
    const second = await agreedLeader();
    expect(second.id).not.toBe(first.id);
    expect(Date.now() - killedAt).toBeLessThan((TTL_SECONDS + 1) * 1000 + 15_000); // bound for a loaded machine; the figure is in npm run faults

    await until('completed at 100 %', async () => (await status(second)).status === 'completed', 60_000);
    expect(await audit()).toEqual(['step 0→5', 'step 5→25', 'step 25→50', 'step 50→100']);
    await expectWrittenBy(first, second);
    const done = await status(live()[1]!);
    expect(done.leader).toBe(second.id);
    await traffic!.stop();
    expect(traffic!.fiveHundreds()).toBe(0);
  }, 120_000);

  it('rolls back when the new backend fails, whichever replicas deal it traffic', async () => {
    await backends.standIn.set({ mode: 'unavailable' });
    await newFleet('steps: [5, 25, 50, 100], failure_limit: 2');
    await startFleet();
    await until('rolled back', async () => (await status(replicas[1]!)).status === 'rolled_back');
    const view = await status(replicas[2]!);
    expect(view.percent).toBe(0);
    expect(view.lastCheck!.gates.find((g) => g.gate === 'error_percent')).toMatchObject({ value: 100, verdict: 'fail' });
    expect(await audit()).toEqual(['step 0→5', 'rollback 5→0']);
    const cli = await promisify(execFile)(process.execPath, [GATEWAY_BIN, 'rollout', 'status', 'thoughts'], {
      env: { ...process.env, GATEWAY_ADMIN_URL: replicas[2]!.adminUrl },
    });
    expect(cli.stdout).toMatch(/^thoughts \(group thoughts\) → thoughts: rolled back at 0%/);
    expect(cli.stdout).toContain("  leader      r1 (the fleet's rollout controller)");
    expect(await auditWriters()).toEqual(['rollout@r1', 'rollout@r1']);
    await traffic!.stop();
    expect(traffic!.fiveHundreds()).toBe(0);
    if (hasChromium) await dashboardsWhileEtcdStopped(replicas[2]!, replicas[0]!);
  }, 120_000);

  it('a leader frozen past its lease (SIGSTOP) is deposed; once it runs again (SIGCONT) it writes nothing and follows', async () => {
    await newFleet('steps: [5, 25, pause, 50, 100], failure_limit: 2');
    // No client goes through r1, which will be frozen (its clients would hang with it).
    await startFleet((r) => r.id !== 'r1');
    const first = await agreedLeader();
    expect(first.id).toBe('r1');
    await until('paused on the pause step at 25 %', async () => (await status(replicas[1]!)).status === 'paused');
    expect(await audit()).toEqual(['step 0→5', 'step 5→25']);

    first.process!.kill('SIGSTOP');
    const others = replicas.filter((r) => r !== first);
    const second = (await agreedLeader(others)).id;
    expect(second).not.toBe(first.id);
    // Promoted through the replica that does not lead: it passes the command on to the leader.
    const follower = others.find((r) => r.id !== second)!;
    const promoted = await send(`${follower.adminUrl}/api/rollout/thoughts/promote`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ by: 'ops', reason: 'while r1 is frozen' }),
    });
    expect(promoted.status, promoted.body).toBe(200);
    first.process!.kill('SIGCONT');

    await until('completed at 100 %', async () => (await status(others[0]!)).status === 'completed', 60_000);
    await until('the old leader follows the new one', async () => (await status(first)).leader === second);
    expect(await audit()).toEqual(['step 0→5', 'step 5→25', 'step 25→50', 'step 50→100']);
    // How ops got in is said once (by the follower), and the follower it came through is named.
    expect(await auditWriters()).toEqual(['rollout@r1', 'rollout@r1', `ops (loopback admin) through ${follower.id}`, `rollout@${second}`]);
    // Deposed, it no longer reports the rollout's state: only the leader does.
    const leader = replicas.find((r) => r.id === second)!;
    await until(
      'only the new leader reports the rollout state',
      async () => (await rolloutStateOn(first)).length === 0 && (await rolloutStateOn(leader)).length > 0,
    );
    await traffic!.stop();
    expect(traffic!.fiveHundreds()).toBe(0);
  }, 120_000);

  it('gateway rollout run (started while etcd is down) beside a gateway with two workers: one of them leads, every step once; the leader stopped, the other carries on', async () => {
    await newFleet('steps: [5, 25, 50, 100], failure_limit: 2');
    const [runner, gateway] = replicas as [Replica, Replica];
    // `gateway rollout run`, on its own admin port, started while etcd is away (a node restarted
    // during an outage): it starts, and campaigns once etcd answers. First in the election, it leads.
    await etcd.stop();
    try {
      runner.process = spawnGateway(['rollout', 'run'], path.join(dir, 'unused-routes.yaml'), {
        ...runner.env,
        GATEWAY_ROLLOUT_ADMIN_PORT: new URL(runner.adminUrl).port,
      });
      await waitHealthy(`${runner.adminUrl}/readyz`, runner.process);
    } finally {
      await etcd.start();
    }
    expect((await agreedLeader([runner])).id).toBe('r1');
    gateway.process = spawnGateway(['serve'], path.join(dir, 'unused-routes.yaml'), { ...gateway.env, GATEWAY_WORKERS: '2' });
    await waitHealthy(`${gateway.adminUrl}/readyz`, gateway.process);
    // New connections, so the primary deals the clients out to both workers.
    traffic = startTraffic([gateway.url], { newConnections: true });

    expect((await agreedLeader([runner, gateway])).id).toBe('r1');
    await until('25 %', async () => (await status(gateway)).percent >= 25);
    await endProcess(runner.process, 'SIGTERM');
    expect(runner.process.exitCode).toBe(0);
    expect((await agreedLeader([gateway])).id).toBe('r2');
    await until('completed at 100 %', async () => (await status(gateway)).status === 'completed', 60_000);
    expect(await audit()).toEqual(['step 0→5', 'step 5→25', 'step 25→50', 'step 50→100']);
    await expectWrittenBy(runner, gateway);
    await traffic!.stop();
    expect(traffic!.fiveHundreds()).toBe(0);
  }, 120_000);

  it('a leader stopped gracefully (SIGTERM) resigns: another leads at once and the rollout goes on without waiting for its drain; the old one shows draining, follows the plan and reports no rollout state', async () => {
    await newFleet('steps: [5, 25, 50, 100], failure_limit: 2');
    // A drain long enough to outlast the test (afterEach kills it): its admin port answers meanwhile.
    for (const replica of replicas) replica.env.GATEWAY_DRAIN_DELAY_MS = '120000';
    await startFleet();
    const first = await agreedLeader();
    await until('5 %', async () => (await status(replicas[1]!)).percent >= 5);
    expect(await rolloutStateOn(first)).toContain('gateway_rollout_state{route="thoughts",state="progressing"}');
    first.process!.kill('SIGTERM');
    const second = await agreedLeader(replicas.filter((r) => r !== first));
    expect(second.id).not.toBe(first.id);
    // Handed over: the old leader (draining) reports no rollout state on /metrics nor in what it publishes to the fleet; the new one does.
    await until(
      'only the new leader reports the rollout state',
      async () => (await rolloutStateOn(first)).length === 0 && (await rolloutStateOn(second)).length > 0,
    );
    await until('only the new leader publishes it', async () => (await publishingRolloutState()).join() === second.id);
    // Draining, it says so in the fleet, and the new leader's steps do not wait for it: the
    // rollout completes while its 120 s drain (longer than this test may run) goes on.
    const firstRow = async () => (await gatewayFleet()).split('\n').find((line) => line.startsWith(`${first.id} `));
    await until('gateway fleet shows the old leader draining', async () => /, draining /.test((await firstRow()) ?? ''));
    await until('completed at 100 %', async () => (await status(second)).status === 'completed', 60_000);
    expect(await audit(second)).toEqual(['step 0→5', 'step 5→25', 'step 25→50', 'step 50→100']);
    await expectWrittenBy(first, second, second);
    expect(await publishingRolloutState()).toEqual([second.id]);
    // Still draining, still serving its clients, and it applied every step's plan meanwhile.
    expect(live()).toContain(first);
    const fleet = JSON.parse(await gatewayFleet('--json')) as FleetStatus;
    expect(fleet.replicas.find((r) => r.id === first.id)).toMatchObject({ state: 'in sync', draining: true });
    expect(await firstRow()).toMatch(/ in sync, draining /);
    if (hasChromium) await dashboardShowsDraining(second, first);
    await traffic!.stop();
    expect(traffic!.fiveHundreds()).toBe(0);
  }, 120_000);
});

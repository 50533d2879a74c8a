// Several gateway replicas on one plan in a real etcd, as processes: a shift through any
// replica's admin API or through the CLI straight on the store reaches every replica; a stale
// write gets 409 and an invalid push is refused naming file:line, the store unchanged; with
// etcd stopped for 10 s under load no client request fails, a replica restarted meanwhile
// serves its cached plan, a write is 503 with nothing written, and after etcd returns a new
// shift reaches every replica.
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from '../../gateway/test/helpers/backends.ts';
import { send } from '../../gateway/test/helpers/http.ts';
import { parseMetrics, routesYaml } from '../../gateway/test/helpers/routes.ts';
import { TEST_COHORT_SECRET } from '../../gateway/test/helpers/cohort.ts';
import { startThrowawayEtcd, type ThrowawayEtcd } from '../support/etcd.ts';
import { endProcess, GATEWAY_BIN, spawnGateway } from '../support/gatewayProcess.ts';
import { freePort } from '../support/ports.ts';
import { waitHealthy } from '../support/processes.ts';
import { eventually, startTraffic } from '../support/rolloutTraffic.ts';

interface Replica {
  readonly name: string;
  readonly url: string;
  readonly adminUrl: string;
  readonly env: NodeJS.ProcessEnv;
  process: ChildProcess;
}

interface PlanReply {
  readonly file: string;
  readonly version: string;
  readonly routes: readonly { readonly name: string; readonly split: Record<string, number> | null }[];
}

let etcd: ThrowawayEtcd;
let legacy: TestBackend;
let thoughts: TestBackend;
let dir: string;
const replicas: Replica[] = [];

beforeAll(async () => {
  [etcd, legacy, thoughts] = await Promise.all([startThrowawayEtcd(), startBackend('legacy'), startBackend('thoughts')]);
  dir = mkdtempSync(path.join(tmpdir(), 'fleet-plan-'));
});
afterEach(async () => {
  await Promise.all(replicas.splice(0).map((replica) => endProcess(replica.process)));
});
afterAll(async () => {
  await Promise.all([etcd?.close(), legacy?.close(), thoughts?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

function planText(percent: number, salt = 'fleet'): string {
  return routesYaml(
    { legacy: legacy.url, thoughts: thoughts.url },
    `  - name: api
    match: { path: /api/** }
    split: { thoughts: ${percent} }
    fallback: legacy
  - { name: site, match: { path: /** }, split: {} }`,
    `cohort: { salt: ${salt} }`,
  );
}

function planFile(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** `gateway ARGS` on the store: its exit code and output. */
async function gateway(args: readonly string[], store: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [GATEWAY_BIN, ...args], {
      env: { ...process.env, GATEWAY_PLAN_STORE: store, GATEWAY_ADMIN_URL: 'http://127.0.0.1:9', LOG_LEVEL: 'warn', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** A replica on the store, with a plan cache of its own; resolves once it is ready. */
async function startReplica(name: string, store: string): Promise<Replica> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const env = {
    GATEWAY_PLAN_STORE: store,
    GATEWAY_PORT: String(port),
    GATEWAY_ADMIN_PORT: String(adminPort),
    GATEWAY_PLAN_CACHE: path.join(dir, `${path.basename(store)}-${name}`, 'plan-cache.yaml'),
    GATEWAY_ROLLOUT: 'off',
    GATEWAY_COHORT_SECRET: TEST_COHORT_SECRET,
  };
  const replica: Replica = {
    name,
    url: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    env,
    process: spawnGateway(['serve'], '/nonexistent/routes.yaml', env),
  };
  replicas.push(replica);
  await waitHealthy(`${replica.adminUrl}/readyz`, replica.process);
  return replica;
}

async function restart(replica: Replica): Promise<void> {
  await endProcess(replica.process);
  replica.process = spawnGateway(['serve'], '/nonexistent/routes.yaml', replica.env);
  await waitHealthy(`${replica.adminUrl}/readyz`, replica.process);
}

async function servedPlan(replica: Replica): Promise<PlanReply> {
  return (await send(`${replica.adminUrl}/api/plan`)).json<PlanReply>();
}

const apiSplit = (plan: PlanReply) => plan.routes.find((r) => r.name === 'api')?.split;

async function everyReplicaServes(what: string, version: string): Promise<void> {
  await eventually(`every replica serves ${what}`, 10_000, async () => {
    const served = await Promise.all(replicas.map(servedPlan));
    return served.every((plan) => plan.version === version) ? true : undefined;
  });
}

async function storeVersion(store: string): Promise<string> {
  const shown = await gateway(['plan', 'show', '--json'], store);
  expect(shown.code).toBe(0);
  return (JSON.parse(shown.stdout) as { version: string }).version;
}

async function auditCount(replica: Replica): Promise<number> {
  return (await send(`${replica.adminUrl}/api/audit?limit=1000`)).json<{ entries: unknown[] }>().entries.length;
}

async function metric(replica: Replica, name: string): Promise<number | undefined> {
  return parseMetrics((await send(`${replica.adminUrl}/metrics`)).body).get(name);
}

describe('a fleet of replicas on one plan in etcd', () => {
  it('converges on a shift made through any replica or the CLI; a stale write gets 409 and an invalid push changes nothing', async () => {
    const store = etcd.storeUrl();
    const pushed = await gateway(['plan', 'push', planFile('start.yaml', planText(0)), '--reason', 'first plan'], store);
    expect(pushed).toMatchObject({ code: 0, stdout: expect.stringContaining(`Pushed ${path.join(dir, 'start.yaml')} to ${store}`) });
    const first = await storeVersion(store);
    const [a, b, c] = [await startReplica('a', store), await startReplica('b', store), await startReplica('c', store)];
    await everyReplicaServes('the pushed plan', first);
    expect((await servedPlan(a)).file).toBe(store);

    // Through one replica's admin API: all three run it.
    const viaAdmin = await send(`${b.adminUrl}/api/routes/api/split`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ backend: 'thoughts', percent: 30, expectVersion: first, by: 'ops' }),
    });
    expect(viaAdmin.status).toBe(200);
    const second = viaAdmin.json<{ version: string }>().version;
    await everyReplicaServes('the admin shift', second);
    expect(apiSplit(await servedPlan(c))).toEqual({ thoughts: 30, legacy: 70 });

    // Through the CLI straight on the store, no gateway asked.
    const viaCli = await gateway(['shift', 'api', 'thoughts=60', '--reason', 'from the CLI', '--by', 'ci'], store);
    expect(viaCli.code).toBe(0);
    expect(viaCli.stdout).toContain(`Wrote ${store}; recorded in ${store}/audit/.`);
    const third = await storeVersion(store);
    await everyReplicaServes('the CLI shift', third);
    expect(apiSplit(await servedPlan(a))).toEqual({ thoughts: 60, legacy: 40 });
    const audited = await auditCount(c);

    // Decided on an old version: 409 from the admin API and from plan push, nothing written.
    const staleAdmin = await send(`${a.adminUrl}/api/routes/api/split`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ backend: 'thoughts', percent: 5, expectVersion: first }),
    });
    expect(staleAdmin.status).toBe(409);
    const stalePush = await gateway(['plan', 'push', planFile('stale.yaml', planText(1)), '--expect-version', second], store);
    expect(stalePush.code).toBe(1);
    expect(stalePush.stderr).toContain(`gateway: refused, ${store} is unchanged: ${store} changed since it was read (expected version ${second.slice(0, 12)}`);

    // Invalid: refused naming file:line; the store and every replica keep the plan.
    const invalidFile = planFile('invalid.yaml', planText(110));
    const invalid = await gateway(['plan', 'push', invalidFile], store);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(new RegExp(`${invalidFile}:\\d+: `));
    expect(await storeVersion(store)).toBe(third);
    expect(await auditCount(c)).toBe(audited);
    expect((await Promise.all(replicas.map(servedPlan))).map((plan) => plan.version)).toEqual([third, third, third]);
  }, 90_000);

  it('etcd stopped for 10 s under load: no request fails, a restarted replica serves its cached plan, a write is 503; afterwards a shift reaches every replica', async () => {
    const store = etcd.storeUrl();
    expect((await gateway(['plan', 'push', planFile('outage.yaml', planText(20, 'outage'))], store)).code).toBe(0);
    const before = await storeVersion(store);
    const [steady1, restarted, steady2] = [await startReplica('a', store), await startReplica('b', store), await startReplica('c', store)];
    await everyReplicaServes('the pushed plan', before);
    const audited = await auditCount(steady1);
    const traffic = startTraffic([steady1.url, steady2.url], { concurrency: 4, timeoutMs: 5_000 });
    try {
      await etcd.stop();
      const stoppedAt = Date.now();
      await eventually('every replica says the store is down', 10_000, async () =>
        (await Promise.all(replicas.map((r) => metric(r, 'gateway_plan_store_up')))).every((up) => up === 0) ? true : undefined,
      );

      const started = Date.now();
      const write = await send(`${steady1.adminUrl}/api/routes/api/split`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ backend: 'thoughts', percent: 50 }),
      });
      expect(write.status).toBe(503);
      expect(write.json<{ message: string }>().message).toContain(`plan store unreachable: http://${etcd.endpoint}`);
      expect(Date.now() - started).toBeLessThan(5_000);
      const audit = await send(`${steady2.adminUrl}/api/audit`);
      expect(audit.status).toBe(503);
      expect(audit.json<{ message: string }>().message).toContain('plan store unreachable');
      const cliWrite = await gateway(['shift', 'api', 'thoughts=50'], store);
      expect(cliWrite.code).toBe(1);
      expect(cliWrite.stderr).toContain('plan store unreachable');

      // A replica restarted while etcd is away starts from its cached copy and serves it.
      await restart(restarted);
      expect((await servedPlan(restarted)).version).toBe(before);
      expect((await send(`${restarted.url}/api/thoughts/`)).status).toBe(200);

      // One that never ran a plan has no copy: it stops, naming the store and the missing copy.
      const fresh = spawnGateway(['serve'], '/nonexistent/routes.yaml', {
        ...restarted.env,
        GATEWAY_PORT: String(await freePort()),
        GATEWAY_ADMIN_PORT: String(await freePort()),
        GATEWAY_PLAN_CACHE: path.join(dir, 'never', 'plan-cache.yaml'),
      });
      let stderr = '';
      fresh.stderr!.on('data', (chunk) => (stderr += chunk));
      const code = await new Promise((resolve) => fresh.once('exit', resolve));
      expect(code).not.toBe(0);
      expect(stderr).toContain(`no plan to start from: ${store} gave none`);
      expect(stderr).toContain('no cached copy of the plan either');

      // The outage lasts 10 s in all, however long the steps above took.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10_000 - (Date.now() - stoppedAt))));
      await etcd.start();
      await eventually('every replica says the store is up again', 10_000, async () =>
        (await Promise.all(replicas.map((r) => metric(r, 'gateway_plan_store_up')))).every((up) => up === 1) ? true : undefined,
      );
      expect(await storeVersion(store)).toBe(before);
      expect(await auditCount(steady1)).toBe(audited);

      const after = await gateway(['shift', 'api', 'thoughts=40'], store);
      expect(after.code).toBe(0);
      await everyReplicaServes('the shift made after the outage', await storeVersion(store));
      expect(apiSplit(await servedPlan(restarted))).toEqual({ thoughts: 40, legacy: 60 });
    } finally {
      await traffic.stop();
    }
    expect(traffic.sent()).toBeGreaterThan(50);
    expect(traffic.fiveHundreds()).toBe(0);
  }, 120_000);
});

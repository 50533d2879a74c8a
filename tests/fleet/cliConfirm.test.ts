// The plan-changing CLI straight on the etcd store, with three real replicas: it waits until
// every live replica serves the version it wrote and prints one line per replica as `gateway
// fleet` does (exit 0); a replica frozen with SIGSTOP (its lease alive, its plan not applied)
// or one that rejects the plan is named and the exit status is 3; with no replica registered
// it says so; and `shift --dry-run` estimates the moved clients from the recent clients of
// every replica, not of one (so does the dashboard's preview on any replica).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf, groupSeed } from '../../gateway/src/core/bucket.ts';
import type { FleetStatus } from '../../gateway/src/fleet/fleetStatus.ts';
import type { ClientEstimate } from '../../gateway/src/plan/estimate.ts';
import { startBackend, type TestBackend } from '../../gateway/test/helpers/backends.ts';
import { cohortId } from '../../gateway/test/helpers/cohort.ts';
import { send } from '../../gateway/test/helpers/http.ts';
import { sendAsClients } from '../../gateway/test/helpers/opsFixture.ts';
import { routesYaml } from '../../gateway/test/helpers/routes.ts';
import { startThrowawayEtcd, type ThrowawayEtcd } from '../support/etcd.ts';
import { startFleetReplica, type FleetReplica } from '../support/fleetReplica.ts';
import { endProcess, runGateway } from '../support/gatewayProcess.ts';
import { eventually } from '../support/rolloutTraffic.ts';

/** Long enough that a frozen replica keeps its registration through the CLI's wait. */
const TTL_SECONDS = 30;
const SALT = 'cli-fleet';

describe('plan changes on the etcd store, confirmed by the fleet', () => {
  let etcd: ThrowawayEtcd;
  let storeUrl: string;
  let legacy: TestBackend;
  let thoughts: TestBackend;
  let dir: string;
  const replicas: FleetReplica[] = [];

  const planFile = (name: string, percent: number, extraRoute = '') => {
    const file = path.join(dir, name);
    const backends = { legacy: legacy.url, thoughts: thoughts.url, ...(extraRoute ? { reviews: 'http://127.0.0.1:9' } : {}) };
    const routes = `  - { name: api, match: { path: /api/** }, split: { thoughts: ${percent} } }\n${extraRoute}  - { name: site, match: { path: /** }, split: {} }`;
    writeFileSync(file, routesYaml(backends, routes, `cohort: { salt: ${SALT} }`));
    return file;
  };
  const gateway = (...args: string[]) => runGateway(args, { GATEWAY_PLAN_STORE: storeUrl, LOG_LEVEL: 'warn' });
  const storeVersion = async () => (JSON.parse((await gateway('plan', 'show', '--json')).stdout) as { version: string }).version;
  const rowOf = (stdout: string, replica: FleetReplica) => stdout.split('\n').find((line) => line.startsWith(`${replica.id} `));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fleet-cli-'));
    [etcd, legacy, thoughts] = await Promise.all([startThrowawayEtcd(), startBackend('legacy'), startBackend('thoughts')]);
    storeUrl = etcd.storeUrl();
  }, 60_000);

  afterAll(async () => {
    for (const replica of replicas) replica.child.kill('SIGCONT');
    await Promise.all(replicas.map((replica) => endProcess(replica.child)));
    await Promise.all([legacy?.close(), thoughts?.close()]);
    await etcd?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('plan push with no replica registered says so plainly and succeeds; a --wait that is not milliseconds is refused', async () => {
    const refused = await gateway('plan', 'push', planFile('first.yaml', 0), '--wait', 'soon');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--wait soon is not a number of milliseconds');

    const pushed = await gateway('plan', 'push', planFile('first.yaml', 0));
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toContain(
      `Version ${(await storeVersion()).slice(0, 12)} is in the store, and no live replica is registered under this prefix (none running, or they use another GATEWAY_PLAN_STORE): gateways started on it will serve it.`,
    );
  });

  it('a shift is confirmed by the three replicas, one line each, exit 0', async () => {
    const env = { GATEWAY_FLEET_TTL_SECONDS: String(TTL_SECONDS), GATEWAY_FLEET_PUBLISH_MS: '200', GATEWAY_ROLLOUT: 'off' };
    replicas.push(
      ...(await Promise.all([
        startFleetReplica(storeUrl, 'replica-a', dir, env),
        startFleetReplica(storeUrl, 'replica-b', dir, env),
        // Its own URL for a back end the plan does not have yet: a plan that adds it is invalid here alone.
        startFleetReplica(storeUrl, 'replica-c', dir, { ...env, GATEWAY_BACKEND_REVIEWS_URL: 'ftp://reviews.example' }),
      ])),
    );
    const shift = await gateway('shift', 'api', 'thoughts=30', '--reason', 'canary');
    expect(shift.code, shift.stderr).toBe(0);
    const version = (await storeVersion()).slice(0, 12);
    expect(shift.stdout).toContain(`Wrote ${storeUrl}; recorded in ${storeUrl}/audit/.\nVersion ${version}: served by all 3 replicas of the fleet.\n`);
    expect(shift.stdout).toMatch(/^REPLICA +ADMIN +VERSION +STATE +SINCE +UPTIME$/m);
    for (const replica of replicas)
      expect(rowOf(shift.stdout, replica)).toMatch(new RegExp(`^${replica.id} +${replica.adminUrl} +${version} +in sync +\\d\\d:\\d\\d:\\d\\dZ `));
  }, 90_000);

  it('shift --dry-run estimates the moved clients from the recent clients of every replica', async () => {
    const [a, b] = replicas;
    const clients = [
      ...(await sendAsClients(a!.url, '/api/thoughts', 20, 'on-a')).keys(),
      ...(await sendAsClients(b!.url, '/api/thoughts', 20, 'on-b')).keys(),
    ];
    // 30 % → 60 %: the clients whose bucket is in [3000, 6000) go from legacy to thoughts.
    const seed = groupSeed(SALT, 'api');
    const moving = clients.filter((name) => {
      const bucket = bucketOf(seed, cohortId(name));
      return bucket >= 3000 && bucket < 6000;
    }).length;
    expect(moving).toBeGreaterThan(0);

    const dryRun = await eventually('the dry run counting the clients of replica A and replica B', 20_000, async () => {
      const run = await gateway('shift', 'api', 'thoughts=60', '--dry-run');
      return run.stdout.includes(' of 40 recent clients') ? run : undefined;
    });
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toContain(
      'Recent clients (last 5 min, from the traffic of 3 replicas of the fleet; a client that reached several replicas counts once for each):\n',
    );
    expect(dryRun.stdout).toContain(
      `  api: ${moving} of 40 recent clients (${Math.round((moving / 40) * 1000) / 10}%) would change backend (legacy → thoughts ${moving}); 30% expected\n`,
    );
    expect(dryRun.stdout).toContain(`Dry run: ${storeUrl} was not written.`);

    // The dashboard's preview (the admin API of replica C, which served none of them) counts the same clients.
    const preview = await send(`${replicas[2]!.adminUrl}/api/routes/api/split`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ backend: 'thoughts', percent: 60, dryRun: true }),
    });
    expect(preview.status).toBe(200);
    expect(preview.json<{ estimate: ClientEstimate }>().estimate.groups[0]!.recent).toMatchObject({ clients: 40, moved: moving });
  }, 60_000);

  it('a replica frozen with SIGSTOP (lease alive, plan not applied) is named as behind: exit 3', async () => {
    const frozen = replicas[1]!;
    const before = (await storeVersion()).slice(0, 12);
    frozen.child.kill('SIGSTOP');
    try {
      const panic = await gateway('panic', 'api', '--wait', '1500');
      expect(panic.code).toBe(3);
      const version = (await storeVersion()).slice(0, 12);
      expect(panic.stdout).toContain(`Version ${version}: served by 2 of 3 replicas of the fleet after 1.5 s.\n`);
      expect(rowOf(panic.stdout, frozen)).toMatch(new RegExp(`^replica-b +\\S+ +${before} +behind `));
      expect(rowOf(panic.stdout, replicas[0]!)).toMatch(/ in sync /);
      expect(panic.stderr).toBe(
        `gateway: version ${version} is written, but not every replica runs it: replica-b still serves version ${before} after 1.5 s. See 'gateway fleet'.\n`,
      );
    } finally {
      frozen.child.kill('SIGCONT');
    }
    await eventually('replica-b in sync again once it runs', 15_000, async () => {
      const fleet = JSON.parse((await gateway('fleet', '--json')).stdout) as FleetStatus;
      return fleet.replicas.every((replica) => replica.state === 'in sync') ? true : undefined;
    });
  }, 60_000);

  it('a replica that rejects the pushed plan is named with its validation message: exit 3', async () => {
    const file = planFile('reviews.yaml', 0, '  - { name: reviews, match: { path: /reviews/** }, split: { reviews: 100 } }\n');
    const push = await gateway('plan', 'push', file);
    expect(push.code).toBe(3);
    const version = (await storeVersion()).slice(0, 12);
    expect(push.stdout).toContain(`Version ${version}: served by 2 of 3 replicas of the fleet.\n`);
    const lines = push.stdout.split('\n');
    const row = lines.findIndex((line) => line.startsWith('replica-c '));
    expect(lines[row]).toMatch(/ rejected /);
    expect(lines[row + 1]).toBe(`    ${storeUrl} is not a valid routes file:`);
    expect(lines[row + 2]).toMatch(/^ {4}.*GATEWAY_BACKEND_REVIEWS_URL/);
    // The first problem of the message on stderr, the others under the row.
    expect(push.stderr).toBe(
      `gateway: version ${version} is written, but not every replica runs it: replica-c rejected it: ${lines[row + 2]!.trim()} (and 1 more under its row). See 'gateway fleet'.\n`,
    );

    // A pipeline's retry pushes the same text: nothing to write, and replica-c still named.
    const retry = await gateway('plan', 'push', file);
    expect(retry.code).toBe(3);
    expect(retry.stdout).toContain('note: nothing to change: the store already holds this text');
    expect(retry.stderr).toContain('replica-c rejected it: ');
  }, 60_000);
});

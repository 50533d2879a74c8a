// `npm run fleet` as a user runs it: etcd, the back ends and two gateway replicas on the etcd
// store from one command, routes.yaml pushed into the empty store, `gateway fleet` showing both
// in sync, and Ctrl-C stopping everything.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetStatus } from '../../gateway/src/fleet/fleetStatus.ts';
import { runGateway } from '../support/gatewayProcess.ts';
import { freePort } from '../support/ports.ts';
import { eventually } from '../support/rolloutTraffic.ts';

const root = path.resolve(import.meta.dirname, '../..');

describe('npm run fleet', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mythoughts-fleet-'));
  const ports: Record<string, string> = {};
  let child: ChildProcess;
  let output = '';
  let exited: Promise<number | NodeJS.Signals | null>;

  beforeAll(async () => {
    for (const name of ['LEGACY_PORT', 'USERS_PORT', 'THOUGHTS_PORT', 'GATEWAY_PORT', 'GATEWAY_ADMIN_PORT', 'FLEET_ETCD_PORT'])
      ports[name] = String(await freePort());
    // Its own process group, so the test can press "Ctrl-C" the way a terminal does.
    child = spawn('npm', ['run', 'fleet', '--silent', '--', '--replicas', '2'], {
      cwd: root,
      env: { ...process.env, ...ports, DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
    await eventually('npm run fleet up', 120_000, () => {
      if (child.exitCode !== null) throw new Error(`npm run fleet exited: ${output}`);
      return output.includes('MyThoughts is up as a fleet') ? true : undefined;
    });
  }, 150_000);

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('pushes routes.yaml into the empty store and runs two replicas in sync with it', async () => {
    expect(output).toContain('MyThoughts is up as a fleet of 2 gateway replicas');
    expect(output).toMatch(/pushed .*routes\.yaml into the store \(version [0-9a-f]{12}\)/);
    const store = `etcd://127.0.0.1:${ports.FLEET_ETCD_PORT}/mythoughts`;
    expect(output).toContain(`GATEWAY_PLAN_STORE=${store} npx gateway fleet`);
    const fleet = await eventually('two replicas in sync', 15_000, async () => {
      const status = JSON.parse((await runGateway(['fleet', '--json'], { GATEWAY_PLAN_STORE: store })).stdout) as FleetStatus;
      return status.replicas.length === 2 && status.replicas.every((r) => r.state === 'in sync') ? status : undefined;
    });
    expect(fleet.replicas.map((r) => [r.id, r.adminUrl])).toEqual([
      ['gateway-1', `http://127.0.0.1:${ports.GATEWAY_ADMIN_PORT}`],
      ['gateway-2', `http://127.0.0.1:${Number(ports.GATEWAY_ADMIN_PORT) + 1}`],
    ]);
    for (const replica of fleet.replicas) expect((await fetch(`${replica.publicUrl}/api/thoughts/1/`)).status).toBe(200);
  });

  it('stops every process on Ctrl-C', async () => {
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBeOneOf([0, 'SIGINT']);
    expect(output).not.toContain('stopped (');
    for (const port of [ports.GATEWAY_ADMIN_PORT, ports.LEGACY_PORT]) await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${ports.FLEET_ETCD_PORT}/health`)).rejects.toThrow();
  });
});

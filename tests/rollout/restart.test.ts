// A gateway process killed (SIGKILL, no goodbye) in the middle of a rollout and started
// again resumes the same step from routes.rollout.json: no step written twice, none skipped.
// The commands go through the real CLI (`gateway rollout status|promote`) against the
// running process's admin port.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandIn, type StandIn } from '../../gateway/test/helpers/standInService.ts';
import { freePort } from '../support/ports.ts';
import { waitHealthy } from '../support/processes.ts';
import { eventually, startTraffic, type Traffic } from '../support/rolloutTraffic.ts';
import { startSystem, type MyThoughtsSystem } from '../support/system.ts';

const GATEWAY_BIN = path.resolve(import.meta.dirname, '../../gateway/bin/gateway.mjs');

let system: MyThoughtsSystem;
let standIn: StandIn;
let dir: string;
let routesFile: string;
let gateway: ChildProcess | undefined;
let traffic: Traffic | undefined;
let publicPort: number;
let adminPort: number;

beforeAll(async () => {
  system = await startSystem('sqlite');
  standIn = await startStandIn(system.thoughtsUrl);
  dir = mkdtempSync(path.join(tmpdir(), 'rollout-restart-'));
  routesFile = path.join(dir, 'routes.yaml');
  writeFileSync(routesFile, `backends:
  legacy:   { url: ${system.legacyUrl}, legacy: true }
  thoughts: { url: ${standIn.url} }
routes:
  - { name: internal, match: { path: [/admin/**, /metrics] }, deny: 404 }
  - name: thoughts
    match: { path: /api/thoughts/** }
    split: { thoughts: 0 }
    fallback: legacy
    shadow: { to: thoughts, noise_percent: 0 }
    rollout: { steps: [5, 25, pause, 50, 100], interval_seconds: 3, min_requests: 3, min_comparisons: 10, max_p95_ratio: 50, max_p95_ms: 2000 }
  - { name: site, match: { path: /** }, split: {} }
`);
  [publicPort, adminPort] = [await freePort(), await freePort()];
}, 60_000);

afterAll(async () => {
  await traffic?.stop();
  if (gateway && gateway.exitCode === null) gateway.kill('SIGKILL');
  await standIn?.close();
  await system?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ ...process.env, GATEWAY_ROUTES: routesFile, GATEWAY_PORT: String(publicPort), GATEWAY_ADMIN_PORT: String(adminPort), GATEWAY_ADMIN_URL: `http://127.0.0.1:${adminPort}`, LOG_LEVEL: 'warn' });

async function startGatewayProcess(): Promise<void> {
  gateway = spawn(process.execPath, [GATEWAY_BIN, 'serve'], { env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
  await waitHealthy(`http://127.0.0.1:${adminPort}/readyz`, gateway);
}

async function kill(): Promise<void> {
  const exited = new Promise((resolve) => gateway!.once('exit', resolve));
  gateway!.kill('SIGKILL');
  await exited;
}

const cli = (...args: string[]) => spawnSync(process.execPath, [GATEWAY_BIN, 'rollout', ...args], { env: env(), encoding: 'utf8' });
const percentInFile = () => Number(/split: \{ thoughts: ([\d.]+) \}/.exec(readFileSync(routesFile, 'utf8'))![1]);
const audit = () => readFileSync(path.join(dir, 'routes.audit.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { action: string; old: { thoughts: number }; new: { thoughts: number } });
const status = () => JSON.parse(cli('status', 'thoughts', '--json').stdout) as { status: string; percent: number; stepIndex: number };
const until = (what: string, probe: () => boolean, timeoutMs = 20_000) => eventually(what, timeoutMs, () => (probe() ? true : undefined));

describe('a gateway restarted mid-rollout', () => {
  it('resumes the same step after SIGKILL, twice, and never repeats or skips one', async () => {
    await startGatewayProcess();
    traffic = startTraffic([`http://127.0.0.1:${publicPort}`]);
    await until('first step 5 % written', () => percentInFile() === 5);
    await kill(); // between steps: at 5 %, its interval running

    await startGatewayProcess();
    expect(status()).toMatchObject({ status: 'progressing', percent: 5, stepIndex: 0 });
    await until('25 % after a passed check, then the pause step', () => status().status === 'paused');
    expect(percentInFile()).toBe(25);
    await kill(); // on the pause step

    await startGatewayProcess();
    const text = cli('status', 'thoughts');
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^thoughts \(group thoughts\) → thoughts: paused at 25%, step 3 of 5, no check due\n  steps       5% → 25% → \[pause\] → 50% → 100%\n/);
    expect(text.stdout).toMatch(/\n  last check  \d\d:\d\d:\d\dZ at 25%: passed\n    ✓ requests +\d+ ≥ 3 /);
    await new Promise((resolve) => setTimeout(resolve, 3_500)); // a whole interval: still paused, nothing written
    expect(percentInFile()).toBe(25);

    const promoted = cli('promote', 'thoughts', '--by', 'ops', '--reason', 'after the restart');
    expect(promoted.status, promoted.stderr).toBe(0);
    expect(promoted.stdout).toContain('promoted by hand; step 4 of 5: 50%');
    await until('completed at 100 %', () => status().status === 'completed');
    expect(audit().map((a) => `${a.action} ${a.old.thoughts}→${a.new.thoughts}`)).toEqual(['step 0→5', 'step 5→25', 'step 25→50', 'step 50→100']);

    const refused = cli('promote', 'thoughts');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe('gateway: rollout of thoughts: the rollout is completed: gateway rollout restart starts it again from the first step\n');
    const unknown = cli('pause', 'thougths');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toBe("gateway: route 'thougths' has no rollout: block (did you mean 'thoughts'?); rollouts: thoughts\n");
  });
});

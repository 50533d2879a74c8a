// A gateway process killed with SIGKILL (no goodbye, as a crash or an OOM kill) in the middle
// of a rollout, then started again on the same routes.yaml and routes.rollout.json, resumes
// where it was: the same step, the same failed checks in a row, a human's pause, a rollback.
// No step is written twice or skipped and no event is told twice. The window between the
// announced write and routes.yaml changing is reached for real: the audit log is a named
// pipe nobody reads, so the write blocks opening it (the PlanStore opens the log before it
// touches routes.yaml). What is asserted is what a user sees: routes.yaml, the audit log, the
// admin API and `gateway rollout`, the webhooks received. Without traffic a check is
// inconclusive and holds, so a status read before the traffic starts cannot race a step.
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../../gateway/test/helpers/http.ts';
import { parseMetrics, sample } from '../../gateway/test/helpers/routes.ts';
import type { AuditEntry } from '../../gateway/src/plan/auditLog.ts';
import { FilePlanStore } from '../../gateway/src/plan/filePlanStore.ts';
import type { RouteProgress } from '../../gateway/src/rollout/progress.ts';
import type { RolloutView } from '../../gateway/src/rollout/rolloutView.ts';
import { endProcess, GATEWAY_BIN, spawnGateway } from '../support/gatewayProcess.ts';
import { freePort } from '../support/ports.ts';
import { waitHealthy } from '../support/processes.ts';
import { percentInPlan, rolloutPlan, startRolloutBackends, type RolloutBackends, type RolloutPlanOptions } from '../support/rolloutBackends.ts';
import { eventually, startHookReceiver, startTraffic, type HookReceiver, type Traffic } from '../support/rolloutTraffic.ts';

/** The gates every test here runs with; 1 s intervals keep it quick. */
const GATES = 'interval_seconds: 1, min_requests: 5, min_comparisons: 10, max_error_percent: 1, max_p95_ms: 3000, max_p95_ratio: 50, max_mismatch_percent: 1';

/** One routes.yaml in a directory of its own, and the gateway process running it (the same ports across restarts). */
interface Site {
  readonly routesFile: string;
  readonly auditFile: string;
  readonly progressFile: string;
  readonly url: string;
  readonly adminUrl: string;
  readonly env: NodeJS.ProcessEnv;
  gateway?: ChildProcess;
}

let backends: RolloutBackends;
let hooks: HookReceiver;
let site: Site;
let dir: string | undefined;
let traffic: Traffic | undefined;

beforeAll(async () => {
  backends = await startRolloutBackends();
  hooks = await startHookReceiver();
}, 60_000);

afterEach(async () => {
  await traffic?.stop();
  traffic = undefined;
  if (site?.gateway) await endProcess(site.gateway, 'SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  hooks.received.length = 0;
  await backends.standIn.set({ mode: 'transparent' });
});

afterAll(async () => {
  await hooks?.close();
  await backends?.stop();
});

async function newSite(rollout: string, split = 0, plan: Pick<RolloutPlanOptions, 'outlier'> = {}): Promise<void> {
  dir = mkdtempSync(path.join(tmpdir(), 'rollout-restart-'));
  const [port, adminPort] = [await freePort(), await freePort()];
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  site = {
    routesFile: path.join(dir, 'routes.yaml'),
    auditFile: path.join(dir, 'routes.audit.jsonl'),
    progressFile: path.join(dir, 'routes.rollout.json'),
    url: `http://127.0.0.1:${port}`,
    adminUrl,
    env: { GATEWAY_PORT: String(port), GATEWAY_ADMIN_PORT: String(adminPort), GATEWAY_ADMIN_URL: adminUrl },
  };
  writeFileSync(site.routesFile, rolloutPlan(backends, { rollout: `${rollout}, ${GATES}, notify: [${hooks.url}]`, split, ...plan }));
}

/** `gateway serve` on the site's files, until ready; no traffic yet. */
async function startGateway(): Promise<void> {
  site.gateway = spawnGateway(['serve'], site.routesFile, site.env);
  await waitHealthy(`${site.adminUrl}/readyz`, site.gateway);
}

function startClients(): void {
  traffic = startTraffic([site.url]);
}

/** The clients stop first (so none hammers a closed port), then SIGKILL. */
async function killGateway(): Promise<void> {
  await traffic?.stop();
  traffic = undefined;
  await endProcess(site.gateway!, 'SIGKILL');
}

async function status(): Promise<RolloutView> {
  const reply = await send(`${site.adminUrl}/api/rollout/thoughts`);
  expect(reply.status, reply.body).toBe(200);
  return reply.json<RolloutView>();
}

/** `gateway rollout ARGS` against the running gateway's admin port, as an operator types it. */
async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [GATEWAY_BIN, 'rollout', ...args], { env: { ...process.env, ...site.env }, encoding: 'utf8' });
}

const percentInFile = () => percentInPlan(readFileSync(site.routesFile, 'utf8'));

/** The audit log, one `action old→new` per line. */
function audit(): string[] {
  if (!existsSync(site.auditFile)) return [];
  return readFileSync(site.auditFile, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditEntry)
    .map((a) => `${a.action} ${a.old.thoughts}→${a.new.thoughts}`);
}

/** The webhooks received, one `event from→to` each. */
const told = () => hooks.received.map((h) => `${h.event} ${h.from}→${h.to}`);

function progressOnDisk(): RouteProgress | undefined {
  if (!existsSync(site.progressFile)) return undefined;
  return (JSON.parse(readFileSync(site.progressFile, 'utf8')) as { routes: Record<string, RouteProgress> }).routes.thoughts;
}

async function metrics(): Promise<Map<string, number>> {
  return parseMetrics((await send(`${site.adminUrl}/metrics`)).body);
}

/** Unix seconds at which outlier detection took the new backend out, while it is out. */
async function ejectedSince(): Promise<number | undefined> {
  return (await metrics()).get(sample('gateway_backend_ejected_since_seconds', { backend: 'thoughts' }));
}

async function rolloutChecks(): Promise<Record<string, number>> {
  const seen = await metrics();
  return Object.fromEntries(
    ['passed', 'failed', 'inconclusive'].map((result) => [result, seen.get(sample('gateway_rollout_checks_total', { route: 'thoughts', result })) ?? 0]),
  );
}

const until = (what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 20_000) =>
  eventually(what, timeoutMs, async () => ((await probe()) ? true : undefined));

/** Three intervals of healthy traffic: time for three checks, were any due. */
const threeIntervals = () => new Promise((resolve) => setTimeout(resolve, 3_500));

describe('a gateway SIGKILLed mid-rollout and started again', () => {
  it('between steps and on the pause step: resumes the same step each time; every step written and told once', async () => {
    await newSite('steps: [5, 25, pause, 50, 100], failure_limit: 2');
    await startGateway(); // the first step is written as it starts
    expect(await status()).toMatchObject({ status: 'progressing', percent: 5, stepIndex: 0 });
    await until('the start told', () => told().length === 2);
    await killGateway(); // between steps: at 5 %, its interval running

    await startGateway();
    expect(await status()).toMatchObject({ status: 'progressing', percent: 5, stepIndex: 0, failures: 0 });
    expect(audit()).toEqual(['step 0→5']);
    startClients();
    await until('25 % after a passed check, then the pause step', async () => (await status()).status === 'paused');
    await until('the pause told', () => told().length === 4);
    await killGateway(); // on the pause step

    await startGateway();
    const paused = await status();
    expect(paused).toMatchObject({ status: 'paused', percent: 25, stepIndex: 2, nextCheckInSeconds: null });
    expect(paused.lastCheck!.verdict).toBe('passed'); // the last check survives the restart too
    const text = await cli('status', 'thoughts');
    expect(text.stdout).toMatch(
      /^thoughts \(group thoughts\) → thoughts: paused at 25%, step 3 of 5, no check due\n {2}steps {7}5% → 25% → \[pause\] → 50% → 100%\n/,
    );
    startClients();
    await threeIntervals(); // a pause step waits for a human, restart or not
    expect(percentInFile()).toBe(25);
    expect(audit()).toEqual(['step 0→5', 'step 5→25']);

    const promoted = await cli('promote', 'thoughts', '--by', 'ops', '--reason', 'after the restart');
    expect(promoted.stdout).toContain('promoted by hand; step 4 of 5: 50%');
    expect(percentInFile()).toBe(50);
    await until('the promotion told', () => told().length === 6);
    await killGateway(); // at 50 %, its interval running

    await startGateway();
    expect(await status()).toMatchObject({ status: 'progressing', percent: 50, stepIndex: 3 });
    startClients();
    await until('completed at 100 %', async () => (await status()).status === 'completed');
    expect(percentInFile()).toBe(100);
    await until('the plan store appended the last audit line', () => audit().length === 4);
    expect(audit()).toEqual(['step 0→5', 'step 5→25', 'step 25→50', 'step 50→100']);
    await until('the end told', () => told().length === 8);
    expect(told()).toEqual(['started 0→5', 'step 0→5', 'step 5→25', 'paused 25→25', 'resumed 25→50', 'step 25→50', 'step 50→100', 'completed 50→100']);
    await traffic!.stop();
    expect(traffic!.fiveHundreds()).toBe(0);
  });

  it('failed checks in a row survive a restart; a rolled-back route stays rolled back after one, with healthy traffic', async () => {
    await backends.standIn.set({ mode: 'unavailable' });
    await newSite('steps: [5, 25, 50, 100], failure_limit: 4');
    await startGateway();
    startClients();
    await until('a failed check counted', async () => (await status()).failures >= 1);
    await killGateway();
    const failures = progressOnDisk()!.state.failures;
    expect(progressOnDisk()!.state.status).toBe('progressing');
    expect(failures).toBeGreaterThanOrEqual(1);
    expect(failures).toBeLessThan(4);

    await startGateway();
    expect(await status()).toMatchObject({ status: 'progressing', percent: 5, failures });
    startClients();
    await until('rolled back', async () => (await status()).status === 'rolled_back');
    // The restarted process needed only the failed checks that were still missing.
    expect((await rolloutChecks()).failed).toBe(4 - failures);
    expect(percentInFile()).toBe(0);
    await until('the plan store appended the rollback', () => audit().length === 2);
    expect(audit()).toEqual(['step 0→5', 'rollback 5→0']);
    expect(JSON.parse(readFileSync(site.auditFile, 'utf8').trim().split('\n')[1]!).reason).toMatch(/^4 failed checks in a row: /);
    await until('the rollback told', () => told().length === 4);
    expect(hooks.received.map((h) => h.event)).toEqual(['started', 'step', 'failed', 'rolled_back']);
    await killGateway();

    await backends.standIn.set({ mode: 'transparent' }); // the new service healthy again: nothing may re-advance it
    await startGateway();
    expect(JSON.parse((await cli('status', 'thoughts', '--json')).stdout)).toMatchObject({ status: 'rolled_back', percent: 0 });
    startClients();
    await threeIntervals();
    expect(await status()).toMatchObject({ status: 'rolled_back', percent: 0 });
    expect(percentInFile()).toBe(0);
    expect(audit()).toEqual(['step 0→5', 'rollback 5→0']);
    expect(told()).toHaveLength(4);
    expect(await rolloutChecks()).toEqual({ passed: 0, failed: 0, inconclusive: 0 }); // not judged at all
    await traffic!.stop();
    expect(traffic!.sent()).toBeGreaterThan(50);
    expect(traffic!.fiveHundreds()).toBe(0);
  });

  it("a human's pause survives a restart; resume goes on to the next step", async () => {
    await newSite('steps: [5, 25, 50, 100], failure_limit: 2');
    await startGateway();
    await cli('pause', 'thoughts', '--by', 'ops', '--reason', 'waiting for the DBA');
    await killGateway();

    await startGateway();
    const paused = await status();
    expect(paused).toMatchObject({ status: 'paused', percent: 5, stepIndex: 0, nextCheckInSeconds: null });
    expect(paused.events[0]!.text).toContain('paused by ops (loopback admin): waiting for the DBA');
    startClients();
    await threeIntervals();
    expect(percentInFile()).toBe(5);
    expect(audit()).toEqual(['step 0→5']);

    await cli('resume', 'thoughts', '--by', 'ops');
    await until('25 % after a passed check', () => percentInFile() === 25);
    await until('the plan store appended the step', () => audit().length === 2);
    expect(audit()).toEqual(['step 0→5', 'step 5→25']);
    await until('the step told', () => told().length === 5);
    expect(told()).toEqual(['started 0→5', 'step 0→5', 'paused 5→5', 'resumed 5→5', 'step 5→25']);
  });

  it('killed after the first step was announced and before routes.yaml changed: the restart writes it once and tells it once', async () => {
    await newSite('steps: [5, 25, 50, 100], failure_limit: 2');
    execFileSync('mkfifo', [site.auditFile]);
    site.gateway = spawnGateway(['serve'], site.routesFile, site.env); // its start blocks in the first write
    const pending = await eventually('the first step announced in routes.rollout.json', 20_000, () => progressOnDisk()?.pending ?? undefined);
    expect(pending.decision).toMatchObject({ action: 'step', to: 5, events: ['started', 'step'] });
    await killGateway();
    expect(percentInFile()).toBe(0); // the write never reached routes.yaml
    expect(told()).toEqual([]);

    rmSync(site.auditFile);
    await startGateway();
    expect(percentInFile()).toBe(5);
    expect(audit()).toEqual(['step 0→5']);
    expect(await status()).toMatchObject({ status: 'progressing', percent: 5, stepIndex: 0 });
    expect(progressOnDisk()!.pending).toBeNull();
    startClients();
    await until('25 % after a passed check', () => percentInFile() === 25);
    await until('the plan store appended the step', () => audit().length === 2);
    expect(audit()).toEqual(['step 0→5', 'step 5→25']);
    await until('the steps told', () => told().length === 3);
    expect(told()).toEqual(['started 0→5', 'step 0→5', 'step 5→25']);
  });

  it('killed inside the first write, and a human shifts while it is down: the human wins, the announced step is dropped and the rollout pauses there', async () => {
    await newSite('steps: [5, 25, 50, 100], failure_limit: 2');
    execFileSync('mkfifo', [site.auditFile]);
    site.gateway = spawnGateway(['serve'], site.routesFile, site.env);
    await eventually('the first step announced in routes.rollout.json', 20_000, () => progressOnDisk()?.pending ?? undefined);
    await killGateway();
    rmSync(site.auditFile);
    await promisify(execFile)(process.execPath, [GATEWAY_BIN, 'shift', 'thoughts', 'thoughts=30', '--by', 'erin', '--file', site.routesFile]);

    await startGateway();
    const paused = await status();
    expect(paused).toMatchObject({ status: 'paused', percent: 30 });
    expect(paused.events[0]!.text).toContain('the split was changed outside the rollout (0% → 30%)');
    expect(percentInFile()).toBe(30);
    expect(audit()).toEqual(['shift 0→30']);
    startClients();
    await threeIntervals();
    expect(percentInFile()).toBe(30);
    expect(audit()).toEqual(['shift 0→30']);
  });

  it("killed with a human's promote announced and routes.yaml already written: the restart takes it as done, writes nothing again and goes on", async () => {
    await newSite('steps: [5, 25, pause, 50, 100], failure_limit: 2', 25); // started at step 2: nothing written yet
    await startGateway();
    startClients();
    await until('paused on the pause step', async () => (await status()).status === 'paused');
    // Paused, nothing writes. With the audit log a pipe nobody reads, a promote blocks in its write.
    execFileSync('mkfifo', [site.auditFile]);
    const promote = spawnGateway(['rollout', 'promote', 'thoughts', '--by', 'ops'], site.routesFile, site.env);
    const pending = await eventually('the promotion announced in routes.rollout.json', 20_000, () => progressOnDisk()?.pending ?? undefined);
    expect(pending).toMatchObject({ who: 'ops (loopback admin)', decision: { action: 'step', to: 50, events: ['resumed', 'step'] } });
    await killGateway();
    await endProcess(promote);
    expect(percentInFile()).toBe(25);
    expect(told()).toEqual(['started 25→25', 'paused 25→25']);

    // The state a kill just after the write leaves: routes.yaml at 50 % and its audit line (the
    // same PlanStore write, done here), the pending record still in routes.rollout.json.
    rmSync(site.auditFile);
    const written = await new FilePlanStore({ file: site.routesFile }).change(
      { kind: 'shift', route: 'thoughts', backend: 'thoughts', percent: pending.decision.to!, only: false },
      { who: pending.who, via: 'rollout', action: 'step', reason: pending.decision.reason, dryRun: false },
    );
    expect(written.ok).toBe(true);
    expect(progressOnDisk()!.pending).not.toBeNull();

    await startGateway();
    expect(await status()).toMatchObject({ status: 'progressing', percent: 50, stepIndex: 3 });
    expect(percentInFile()).toBe(50);
    expect(audit()).toEqual(['step 25→50']); // not written again
    startClients();
    await until('completed at 100 %', async () => (await status()).status === 'completed');
    await until('the plan store appended the last step', () => audit().length === 2);
    expect(audit()).toEqual(['step 25→50', 'step 50→100']); // the next step, neither repeated nor skipped
    await until('the end told', () => told().length === 6);
    expect(told()).toEqual(['started 25→25', 'paused 25→25', 'resumed 25→50', 'step 25→50', 'step 50→100', 'completed 50→100']);
  });
});

// Outlier ejection outlives a step: the cool-down runs on after the rollout rolled back or moved
// on. The requests an ejected backend does not get count as its failures, but only for the step
// whose traffic ejected it.
describe('a rollout whose new backend is still ejected from before the step', () => {
  it('503s → rolled back → healthy → gateway rollout restart within the cool-down: re-admitted, promoted to 100 % with no failed check', async () => {
    await backends.standIn.set({ mode: 'unavailable' });
    await newSite('steps: [50, 100], failure_limit: 2', 0, { outlier: 'consecutive_failures: 3, cooldown_seconds: 30' });
    await startGateway();
    startClients();
    await until('rolled back', async () => (await status()).status === 'rolled_back');
    expect(audit()).toEqual(['step 0→50', 'rollback 50→0']);
    expect((await rolloutChecks()).failed).toBe(2);
    expect(await ejectedSince()).toBeGreaterThan(0); // still out: 30 s of cool-down to go

    await backends.standIn.set({ mode: 'transparent' });
    const restarted = await cli('restart', 'thoughts', '--by', 'ops', '--reason', 'fixed');
    expect(restarted.stdout).toContain('restarted');
    await until('re-admitted by the plan that gives it a share again', async () => (await ejectedSince()) === undefined, 10_000);
    await until('completed at 100 %', async () => (await status()).status === 'completed');
    expect(percentInFile()).toBe(100);
    await until('the plan store appended the last step', () => audit().length === 4);
    expect(audit()).toEqual(['step 0→50', 'rollback 50→0', 'step 0→50', 'step 50→100']);
    expect((await rolloutChecks()).failed).toBe(2); // none since the restart
    await traffic!.stop();
    expect(traffic!.fiveHundreds()).toBe(0);
  });

  it('ejected while paused, promoted while still out: the checks hold (inconclusive, saying why) until it is back, then it goes on', async () => {
    await newSite('steps: [25, pause, 50, 100], failure_limit: 2', 0, { outlier: 'consecutive_failures: 3, cooldown_seconds: 15' });
    await startGateway();
    startClients();
    await until('paused on the pause step', async () => (await status()).status === 'paused');
    await backends.standIn.set({ mode: 'unavailable' }); // the paused rollout judges nothing, so nothing fails
    await until('ejected', async () => (await ejectedSince()) !== undefined);
    await backends.standIn.set({ mode: 'transparent' });

    // 25 → 50 keeps it in the split: no re-admission, the cool-down runs on into the new step.
    await cli('promote', 'thoughts', '--by', 'ops');
    expect(percentInFile()).toBe(50);
    const held = await eventually('a check held by the old ejection', 20_000, async () => {
      const check = (await status()).lastCheck;
      return check?.percent === 50 && check.verdict === 'inconclusive' ? check : undefined;
    });
    expect(held.gates.find((g) => g.gate === 'error_percent')!.why).toMatch(
      /^thoughts has been out \(outlier detection\) since [\d.]+ s before its replica applied this step's plan: holding until it is back/,
    );
    await until('completed at 100 % once it is back', async () => (await status()).status === 'completed', 40_000);
    await until('the plan store appended the last step', () => audit().length === 3);
    expect(audit()).toEqual(['step 0→25', 'step 25→50', 'step 50→100']);
    expect((await rolloutChecks()).failed).toBe(0);
    await traffic!.stop();
    expect(traffic!.fiveHundreds()).toBe(0);
  });
});

// Progressive rollout end to end: the real monolith, the real thoughts service behind a
// controllable stand-in, a real gateway running a routes.yaml with a rollout: block, clients
// reading through it, and a real HTTP receiver for the webhooks. Intervals of 1–2 s keep it
// quick; every step and rollback is read back from routes.yaml and its audit log.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, scrape, type TestGateway } from '../../gateway/test/helpers/gateway.ts';
import { send } from '../../gateway/test/helpers/http.ts';
import { sample } from '../../gateway/test/helpers/routes.ts';
import type { StandIn } from '../../gateway/test/helpers/standInService.ts';
import type { AuditEntry } from '../../gateway/src/plan/auditLog.ts';
import type { RolloutView } from '../../gateway/src/rollout/rolloutView.ts';
import { eventually, startHookReceiver, startTraffic, type HookReceiver, type Traffic } from '../support/rolloutTraffic.ts';
import { percentInPlan, rolloutPlan, startRolloutBackends, type RolloutBackends } from '../support/rolloutBackends.ts';

interface Plan {
  steps?: string;
  extra?: string;
  split?: number;
}

/** The thoughts API under rollout to the stand-in, every event to the test's webhook receiver. */
function plan({ steps = '[5, 25, pause, 50, 100]', extra = '', split = 0 }: Plan = {}): string {
  return rolloutPlan(backends, {
    split,
    rollout: `steps: ${steps}, interval_seconds: 2, min_requests: 5, max_error_percent: 1, max_p95_ms: 2000, max_p95_ratio: 50, max_mismatch_percent: 1, min_comparisons: 20, failure_limit: 2, notify: [${hooks.url}]${extra}`,
  });
}

let backends: RolloutBackends;
let standIn: StandIn;
let hooks: HookReceiver;
let gateway: TestGateway | undefined;
let traffic: Traffic | undefined;

beforeAll(async () => {
  backends = await startRolloutBackends();
  standIn = backends.standIn;
  hooks = await startHookReceiver();
}, 60_000);

afterEach(async () => {
  await traffic?.stop();
  await gateway?.stop();
  traffic = undefined;
  gateway = undefined;
  hooks.received.length = 0;
  await standIn.set({ mode: 'transparent' });
});

afterAll(async () => {
  await hooks?.close();
  await backends?.stop();
});

/** A gateway on `plan(options)`, or on the routes.yaml text given, with clients reading through it. */
async function start(options: Plan | string = {}, load: Parameters<typeof startTraffic>[1] = {}): Promise<TestGateway> {
  gateway = await startTestGateway(typeof options === 'string' ? options : plan(options), {
    backendUrls: {},
    rollout: { notifier: { backoffMs: [100, 200] } },
  });
  traffic = startTraffic([gateway.url], load);
  return gateway;
}

async function status(gw: TestGateway): Promise<RolloutView> {
  const reply = await send(`${gw.adminUrl}/api/rollout/thoughts`);
  expect(reply.status, reply.body).toBe(200);
  return reply.json<RolloutView>();
}

async function control(gw: TestGateway, command: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const reply = await send(`${gw.adminUrl}/api/rollout/thoughts/${command}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ by: 'dana', reason: 'test' }),
  });
  return { status: reply.status, body: reply.json() };
}

/** The new backend's percent in routes.yaml as written (the comment on the line stays). */
const percentInFile = (gw: TestGateway) => percentInPlan(readFileSync(gw.routesFile, 'utf8'));

/** The audit log's lines; the rollout's carry its gate values in details. */
function auditLines(gw: TestGateway): (AuditEntry & { details?: { gates: Record<string, { value: number | null; threshold: number }> } })[] {
  const file = gw.routesFile.replace(/routes\.yaml$/, 'routes.audit.jsonl');
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

const until = (what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 20_000) =>
  eventually(what, timeoutMs, async () => ((await probe()) ? true : undefined));

describe('progressive rollout against the real services', () => {
  it('healthy: 5 → 25 → pause → promote → 50 → 100, each step audited and sent to the webhook, no client sees a 5xx', async () => {
    const gw = await start();
    await until('first step 5 % written', () => percentInFile(gw) === 5);
    await until('25 % after a passed check', () => percentInFile(gw) === 25);
    await until('paused on the pause step', async () => (await status(gw)).status === 'paused');
    const paused = await status(gw);
    expect(paused).toMatchObject({ percent: 25, stepIndex: 2, steps: [5, 25, 'pause', 50, 100] });
    expect(paused.lastCheck!.verdict).toBe('passed');
    expect(paused.lastCheck!.gates.map((g) => `${g.gate} ${g.verdict}`)).toEqual([
      'requests pass',
      'error_percent pass',
      'p95_ms pass',
      'p95_ratio pass',
      'comparisons pass',
      'mismatch_percent pass',
    ]);
    // It stays paused: a pause step waits for a human, whatever the gates say.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(percentInFile(gw)).toBe(25);

    const promoted = await control(gw, 'promote');
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    expect(percentInFile(gw)).toBe(50);
    await until('100 % and completed', async () => (await status(gw)).status === 'completed');
    expect(percentInFile(gw)).toBe(100);

    const audit = auditLines(gw);
    expect(audit.map((a) => `${a.via} ${a.action} ${a.old.thoughts}→${a.new.thoughts}`)).toEqual([
      'rollout step 0→5',
      'rollout step 5→25',
      'rollout step 25→50',
      'rollout step 50→100',
    ]);
    expect(audit[1]!.who).toBe('rollout');
    expect(audit[1]!.reason).toMatch(/^all gates passed \(requests \d+ ≥ 5 ✓, error_percent 0 ≤ 1 ✓, p95_ms [\d.]+ ≤ 2000 ✓/);
    expect(audit[1]!.details!.gates.error_percent).toEqual({ value: 0, threshold: 1 });
    expect(audit[2]!.who).toBe('dana (loopback admin)');

    await until('every event delivered', () => hooks.received.some((h) => h.event === 'completed'));
    expect(hooks.received.map((h) => `${h.event} ${h.from}→${h.to}`)).toEqual([
      'started 0→5',
      'step 0→5',
      'step 5→25',
      'paused 25→25',
      'resumed 25→50',
      'step 25→50',
      'step 50→100',
      'completed 50→100',
    ]);
    const step = hooks.received[2]!;
    expect(step).toMatchObject({ route: 'thoughts', group: 'thoughts', contentType: 'application/json' });
    expect(Object.keys(step.gates as object)).toEqual(['requests', 'error_percent', 'p95_ms', 'p95_ratio', 'comparisons', 'mismatch_percent']);
    expect(step.text).toMatch(/^rollout of thoughts \(group thoughts\) step 5% → 25%: all gates passed/);
    expect(Date.parse(String(step.time))).toBeGreaterThan(Date.now() - 60_000);

    const metrics = await scrape(gw);
    expect(metrics.get('gateway_rollout_percent{route="thoughts"}')).toBe(100);
    expect(metrics.get('gateway_rollout_state{route="thoughts",state="completed"}')).toBe(1);
    expect(metrics.get('gateway_rollout_state{route="thoughts",state="progressing"}')).toBe(0);
    expect(metrics.get(sample('gateway_rollout_checks_total', { route: 'thoughts', result: 'passed' }))).toBeGreaterThanOrEqual(2);
    expect(metrics.get('gateway_rollout_notifications_total{result="delivered"}')).toBe(8);
    const checkLines = gw.logLines().filter((l) => String(l.msg).startsWith('rollout check of thoughts'));
    expect(checkLines.length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(checkLines[0]!.gates as object)).toEqual(['requests', 'error_percent', 'p95_ms', 'p95_ratio', 'comparisons', 'mismatch_percent']);
    await traffic!.stop();
    expect(traffic!.fiveHundreds()).toBe(0);
  });

  it('503s from the new service: rolled back to 0 after failure_limit failed checks, while clients saw no 5xx (the fallback hid them)', async () => {
    await standIn.set({ mode: 'unavailable' });
    const gw = await start({ steps: '[5, 25, 50, 100]' });
    await until('rolled back', async () => (await status(gw)).status === 'rolled_back');
    expect(percentInFile(gw)).toBe(0);
    const view = await status(gw);
    expect(view.lastCheck!.verdict).toBe('failed');
    expect(view.lastCheck!.gates.find((g) => g.gate === 'error_percent')).toMatchObject({ value: 100, verdict: 'fail' });
    expect(view.failures).toBe(2);
    const audit = auditLines(gw);
    expect(audit.map((a) => `${a.action} ${a.old.thoughts}→${a.new.thoughts}`)).toEqual(['step 0→5', 'rollback 5→0']);
    expect(audit[1]!.reason).toMatch(/^2 failed checks in a row: \d+ of \d+ attempts failed/);
    // Never re-advanced: a rolled-back rollout waits for `gateway rollout restart`.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(percentInFile(gw)).toBe(0);
    expect((await status(gw)).status).toBe('rolled_back');
    await until('events delivered', () => hooks.received.some((h) => h.event === 'rolled_back'));
    expect(hooks.received.map((h) => h.event)).toEqual(['started', 'step', 'failed', 'rolled_back']);
    await traffic!.stop();
    expect(traffic!.sent()).toBeGreaterThan(50);
    expect(traffic!.fiveHundreds()).toBe(0);
    expect(standIn.served()).toBeGreaterThan(0);
  });

  it('503s with outlier ejection on: requests diverted from the ejected backend count against it, so the checks fail (not inconclusive) and it rolls back', async () => {
    await standIn.set({ mode: 'unavailable' });
    // Ejected after 3 failures for longer than the test: nearly every request of each interval is
    // diverted to legacy untried. No shadow, so no parity gate: only the error gate can fail it.
    const gw = await start(
      rolloutPlan(backends, {
        shadow: false,
        outlier: 'consecutive_failures: 3, cooldown_seconds: 600',
        rollout: `steps: [50, 100], interval_seconds: 2, min_requests: 20, max_error_percent: 1, failure_limit: 2, notify: [${hooks.url}]`,
      }),
    );
    await until('rolled back', async () => (await status(gw)).status === 'rolled_back');
    const metrics = await scrape(gw);
    expect(metrics.get(sample('gateway_backend_ejections_total', { backend: 'thoughts' }))).toBeGreaterThanOrEqual(1);
    const diverted = metrics.get(sample('gateway_backend_attempts_total', { route: 'thoughts', backend: 'thoughts', result: 'ejected' })) ?? 0;
    const tried = metrics.get(sample('gateway_backend_attempts_total', { route: 'thoughts', backend: 'thoughts', result: '5xx' })) ?? 0;
    expect(diverted).toBeGreaterThan(tried);
    expect(metrics.get(sample('gateway_rollout_checks_total', { route: 'thoughts', result: 'failed' }))).toBe(2);
    const audit = auditLines(gw);
    expect(audit.map((a) => `${a.action} ${a.old.thoughts}→${a.new.thoughts}`)).toEqual(['step 0→50', 'rollback 50→0']);
    expect(percentInFile(gw)).toBe(0);
    await traffic!.stop();
    expect(traffic!.fiveHundreds()).toBe(0);
  });

  it('200 with different data: rolled back by the parity gate before 50 %, the error and latency gates passing', async () => {
    await standIn.set({ mode: 'altered' });
    const gw = await start({ steps: '[5, 25, 50, 100]' });
    await until('rolled back', async () => (await status(gw)).status === 'rolled_back');
    const gates = Object.fromEntries((await status(gw)).lastCheck!.gates.map((g) => [g.gate, g]));
    expect(gates.mismatch_percent).toMatchObject({ verdict: 'fail' });
    expect(gates.mismatch_percent!.value).toBeGreaterThan(50);
    expect(gates.error_percent).toMatchObject({ value: 0, verdict: 'pass' });
    expect(gates.p95_ms!.verdict).toBe('pass');
    expect(gates.p95_ratio!.verdict).toBe('pass');
    const audit = auditLines(gw);
    expect(audit.every((a) => (a.new.thoughts ?? 0) < 50)).toBe(true);
    expect(audit.at(-1)).toMatchObject({ action: 'rollback', new: { thoughts: 0 } });
    expect(percentInFile(gw)).toBe(0);
    await traffic!.stop();
    expect(traffic!.fiveHundreds()).toBe(0);
  });

  it('too little traffic: inconclusive, the step holds and nothing is counted', async () => {
    const gw = await start({ steps: '[5, 25, 50, 100]', extra: ', on_failure: pause', split: 5 }, { concurrency: 1, pauseMs: 400 });
    await until(
      'two inconclusive checks',
      async () => ((await scrape(gw)).get(sample('gateway_rollout_checks_total', { route: 'thoughts', result: 'inconclusive' })) ?? 0) >= 2,
      15_000,
    );
    const view = await status(gw);
    expect(view).toMatchObject({ status: 'progressing', percent: 5, failures: 0 });
    expect(view.lastCheck!.verdict).toBe('inconclusive');
    expect(view.lastCheck!.reason).toMatch(/^inconclusive, holding at 5%: \d+ attempts on thoughts in the interval, 5 needed/);
    expect(view.lastCheck!.gates.find((g) => g.gate === 'requests')!.verdict).toBe('inconclusive');
    expect(percentInFile(gw)).toBe(5);
    expect((await scrape(gw)).get(sample('gateway_rollout_checks_total', { route: 'thoughts', result: 'failed' }))).toBe(0);
  });

  it('a human shift pauses the rollout; resume goes on from there to the next step above', async () => {
    const gw = await start({ steps: '[5, 25, 50, 100]' });
    await until('first step 5 % written', () => percentInFile(gw) === 5);
    const shifted = await send(`${gw.adminUrl}/api/routes/thoughts/split`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ backend: 'thoughts', percent: 30, by: 'erin', reason: 'faster' }),
    });
    expect(shifted.status, shifted.body).toBe(200);
    await until('paused by the human edit', async () => (await status(gw)).status === 'paused');
    expect(await status(gw)).toMatchObject({ percent: 30 });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(percentInFile(gw)).toBe(30);

    expect((await control(gw, 'resume')).status).toBe(200);
    await until('the next step above 30 %: 50 %', () => percentInFile(gw) === 50);
    // The plan store appends the audit line right after the file is in place: wait for it too.
    await until('the step audited', () => auditLines(gw).length >= 3);
    expect(auditLines(gw).map((a) => `${a.via} ${a.action} ${a.new.thoughts}`)).toEqual(['rollout step 5', 'admin shift 30', 'rollout step 50']);
    await until('events delivered', () => hooks.received.filter((h) => h.event === 'step').length >= 2);
    expect(hooks.received.map((h) => h.event).slice(0, 5)).toEqual(['started', 'step', 'paused', 'resumed', 'step']);
    expect(String(hooks.received[2]!.text)).toContain('the split was changed outside the rollout (5% → 30%)');
  });
});

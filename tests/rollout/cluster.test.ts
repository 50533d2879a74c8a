// The progressive rollout in a GATEWAY_WORKERS=2 gateway: `gateway serve` as a real process
// (a cluster primary and two workers), the real monolith, the real thoughts service behind
// the controllable stand-in, clients on new connections so the primary deals them to both
// workers. The primary runs the one controller, judging the gates on both workers' metrics.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serveWithWorkers, type Cluster } from '../../gateway/test/helpers/cluster.ts';
import { send } from '../../gateway/test/helpers/http.ts';
import { parseMetrics, sample } from '../../gateway/test/helpers/routes.ts';
import type { StandIn } from '../../gateway/test/helpers/standInService.ts';
import type { AuditEntry } from '../../gateway/src/plan/auditLog.ts';
import type { RolloutView } from '../../gateway/src/rollout/rolloutView.ts';
import { hasChromium, openBrowserPage, type BrowserPage } from '../support/chromium.ts';
import { freePort } from '../support/ports.ts';
import { eventually, startTraffic, type Traffic } from '../support/rolloutTraffic.ts';
import { GATEWAY_BIN } from '../support/gatewayProcess.ts';
import { rolloutPlan, startRolloutBackends, type RolloutBackends } from '../support/rolloutBackends.ts';

/**
 * More attempts than either worker can serve in one interval of the healthy test: its clients
 * send at most 4 / 150 ms ≈ 27 requests a second, half of them to thoughts, dealt out to two
 * workers, so at most about 40 per worker in 6 s, and about 60–80 in all.
 */
const MIN_REQUESTS = 50;

let backends: RolloutBackends;
let standIn: StandIn;
let dir: string;
let gateway: Cluster | undefined;
let traffic: Traffic | undefined;

beforeAll(async () => {
  backends = await startRolloutBackends();
  standIn = backends.standIn;
}, 60_000);

afterEach(async () => {
  await traffic?.stop();
  await gateway?.stop();
  traffic = undefined;
  gateway = undefined;
  rmSync(dir, { recursive: true, force: true });
  await standIn.set({ mode: 'transparent' });
});

afterAll(async () => {
  await backends?.stop();
});

/** The thoughts API under rollout to the stand-in, in a directory of its own. */
function writePlan(steps: string, intervalSeconds: number, failureLimit = 2): string {
  dir = mkdtempSync(path.join(tmpdir(), 'rollout-cluster-'));
  const routesFile = path.join(dir, 'routes.yaml');
  writeFileSync(
    routesFile,
    rolloutPlan(backends, {
      shadow: false,
      rollout: `steps: ${steps}, interval_seconds: ${intervalSeconds}, min_requests: ${MIN_REQUESTS}, max_error_percent: 1, max_p95_ms: 3000, max_p95_ratio: 50, failure_limit: ${failureLimit}`,
    }),
  );
  return routesFile;
}

const status = async (cluster: Cluster) => (await send(`${cluster.adminUrl}/api/rollout/thoughts`)).json<RolloutView>();
const audit = (routesFile: string): AuditEntry[] =>
  readFileSync(routesFile.replace(/routes\.yaml$/, 'routes.audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditEntry);
const controllerLines = (cluster: Cluster) => cluster.lines().filter((line) => String(line.msg).startsWith('rollout controller running'));

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [GATEWAY_BIN, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('progressive rollout with GATEWAY_WORKERS=2: the primary runs the one controller', () => {
  it('advances on healthy traffic counted over both workers, one audit line per step; status and the rollout API on the primary', async () => {
    const routesFile = writePlan('[50, 100]', 6);
    gateway = await serveWithWorkers(routesFile);
    traffic = startTraffic([gateway.url], { concurrency: 4, pauseMs: 150, newConnections: true });
    const done = await eventually('completed at 100 %', 50_000, async () => {
      const view = await status(gateway!);
      return view.status === 'completed' ? view : undefined;
    });
    await traffic.stop();
    expect(traffic.fiveHundreds()).toBe(0);

    // The passing check counted the attempts of both workers: each served part of them, and
    // neither alone reached min_requests.
    const checks = gateway.lines().filter((line) => String(line.msg).startsWith('rollout check of thoughts at 50%'));
    const passed = checks.at(-1)!;
    expect(passed.verdict).toBe('passed');
    const counted = (passed.gates as Record<string, { value: number }>).requests!.value;
    const windowStart = checks.length > 1 ? Number(checks.at(-2)!.time) : 0;
    const perWorker = new Map<unknown, number>();
    for (const line of gateway.lines())
      if (line.msg === 'request' && line.backend === 'thoughts' && Number(line.time) > windowStart && Number(line.time) <= Number(passed.time))
        perWorker.set(line.pid, (perWorker.get(line.pid) ?? 0) + 1);
    const served = [...perWorker.values()];
    expect(served, JSON.stringify(Object.fromEntries(perWorker))).toHaveLength(2);
    expect(counted).toBeGreaterThanOrEqual(MIN_REQUESTS);
    expect(Math.max(...served), `one worker alone served ${Math.max(...served)}`).toBeLessThan(MIN_REQUESTS);
    expect(Math.abs(served[0]! + served[1]! - counted), `${served.join(' + ')} served, ${counted} counted`).toBeLessThanOrEqual(5);

    expect(done).toMatchObject({ percent: 100, steps: [50, 100] });
    expect(audit(routesFile).map((a) => `${a.via} ${a.action} ${a.old.thoughts}→${a.new.thoughts}`)).toEqual(['rollout step 0→50', 'rollout step 50→100']);
    // One controller in the cluster, in the primary.
    expect(controllerLines(gateway).map((line) => [line.pid, line.gates])).toEqual([[gateway.child.pid, "every worker's metrics"]]);

    const metrics = parseMetrics((await send(`${gateway.adminUrl}/metrics`)).body);
    expect(metrics.get(sample('gateway_rollout_percent', { route: 'thoughts' }))).toBe(100);
    expect(metrics.get(sample('gateway_rollout_checks_total', { route: 'thoughts', result: 'passed' }))).toBe(1);
    expect(metrics.get(sample('gateway_rollout_state', { route: 'thoughts', state: 'completed' }))).toBe(1);
    expect(metrics.get(sample('gateway_backend_attempts_total', { route: 'thoughts', backend: 'thoughts', result: 'ok' }))).toBeGreaterThanOrEqual(counted);

    const shown = await cli(['rollout', 'status', 'thoughts'], { GATEWAY_ADMIN_URL: gateway.adminUrl });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^thoughts \(group thoughts\) → thoughts: completed at 100%/);
    expect(shown.stdout).toMatch(/✓ requests +\d+ ≥ 50/);

    // The dashboard is served for its rollout panel; the per-process API says why it is not.
    const page = await send(`${gateway.adminUrl}/`);
    expect([page.status, page.headers['content-type']]).toEqual([200, 'text/html; charset=utf-8']);
    const plan = await send(`${gateway.adminUrl}/api/plan`);
    expect(plan.status).toBe(404);
    expect(plan.json().message).toMatch(/^this admin port is a cluster primary's \(GATEWAY_WORKERS>1\): it serves \/api\/rollout/);
  }, 70_000);

  it('rolls back on 503s from the new service while clients see no 5xx (the fallback hid them)', async () => {
    await standIn.set({ mode: 'unavailable' });
    const routesFile = writePlan('[50, 100]', 2);
    gateway = await serveWithWorkers(routesFile);
    traffic = startTraffic([gateway.url], { concurrency: 4, newConnections: true });
    await eventually('rolled back', 30_000, async () => ((await status(gateway!)).status === 'rolled_back' ? true : undefined));
    const view = await status(gateway);
    expect(view.lastCheck!.gates.find((g) => g.gate === 'error_percent')).toMatchObject({ value: 100, verdict: 'fail' });
    expect(view.failures).toBe(2);
    // Never re-advanced, and written once: one audit line per step and rollback.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(audit(routesFile).map((a) => `${a.action} ${a.old.thoughts}→${a.new.thoughts}`)).toEqual(['step 0→50', 'rollback 50→0']);
    expect(readFileSync(routesFile, 'utf8')).toContain('split: { thoughts: 0 }');
    expect(controllerLines(gateway)).toHaveLength(1);
    await traffic.stop();
    expect(traffic.sent()).toBeGreaterThan(50);
    expect(traffic.fiveHundreds()).toBe(0);
    const attempts = parseMetrics((await send(`${gateway.adminUrl}/metrics`)).body).get(
      sample('gateway_backend_attempts_total', { route: 'thoughts', backend: 'thoughts', result: '5xx' }),
    );
    expect(attempts).toBeGreaterThan(0);
  }, 60_000);

  it('a worker killed mid-rollout: the next check counts what the live workers served (its replacement from zero) and fails, then rolls back', async () => {
    await standIn.set({ mode: 'unavailable' });
    const routesFile = writePlan('[50, 100]', 3, 3);
    gateway = await serveWithWorkers(routesFile);
    // A connection node:cluster was handing to the killed worker is never answered: its client gives up.
    traffic = startTraffic([gateway.url], { concurrency: 4, newConnections: true, timeoutMs: 5_000 });
    await eventually('two failed checks', 20_000, async () => ((await status(gateway!)).failures === 2 ? true : undefined));
    const workerPids = [...new Set(gateway.lines().flatMap((line) => (line.msg === 'request' ? [line.pid as number] : [])))];
    expect(workerPids).toHaveLength(2);
    process.kill(workerPids[0]!, 'SIGKILL');
    await eventually('rolled back', 20_000, async () => ((await status(gateway!)).status === 'rolled_back' ? true : undefined));

    // The killed worker had counted about two intervals' attempts. Summed without regard to
    // who counted what, they would vanish from the total, so the third interval would come out
    // near zero or negative (inconclusive); per worker it is what the live ones served: failed.
    // Checks before the traffic reached MIN_REQUESTS in an interval (a slow start on a busy
    // machine) are inconclusive for want of requests: they come before the first failed one.
    const allChecks = gateway.lines().filter((line) => String(line.msg).startsWith('rollout check of thoughts'));
    const checks = allChecks.slice(allChecks.findIndex((line) => line.verdict !== 'inconclusive'));
    expect(checks.map((line) => line.verdict)).toEqual(['failed', 'failed', 'failed']);
    expect((checks[2]!.gates as Record<string, { value: number }>).requests!.value).toBeGreaterThanOrEqual(MIN_REQUESTS);
    expect(audit(routesFile).map((a) => `${a.action} ${a.old.thoughts}→${a.new.thoughts}`)).toEqual(['step 0→50', 'rollback 50→0']);
    // The replacement serves, and /metrics sums the live workers again.
    expect(gateway.lines().some((line) => String(line.msg).startsWith('gateway worker died'))).toBe(true);
    expect((await send(`${gateway.adminUrl}/metrics`)).status).toBe(200);
    // Only what the killed worker held was lost (at most one request per client); the fallback hid every 503.
    await traffic.stop();
    expect(traffic.fiveHundreds()).toBeLessThanOrEqual(4);
    expect(traffic.statuses.get(200)).toBeGreaterThan(100);
  }, 45_000);

  it('GATEWAY_PROMETHEUS_URL: the primary reads the gates from Prometheus, and holds the step while it does not answer', async () => {
    const prometheusUrl = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    const routesFile = writePlan('[50, 100]', 1);
    gateway = await serveWithWorkers(routesFile, { GATEWAY_PROMETHEUS_URL: prometheusUrl });
    traffic = startTraffic([gateway.url], { concurrency: 2, newConnections: true });
    const check = await eventually('a check', 15_000, async () => (await status(gateway!)).lastCheck ?? undefined);
    expect(check.verdict).toBe('inconclusive');
    expect(check.reason).toContain(`cannot read the gate values: Prometheus at ${prometheusUrl} did not answer`);
    expect(controllerLines(gateway).map((line) => [line.pid, line.gates])).toEqual([[gateway.child.pid, `Prometheus at ${prometheusUrl}`]]);
    expect(audit(routesFile).map((a) => `${a.action} ${a.new.thoughts}`)).toEqual(['step 50']);
  }, 30_000);

  it('GATEWAY_ROLLOUT=off: no process of the cluster runs a controller', async () => {
    const routesFile = writePlan('[50, 100]', 1);
    gateway = await serveWithWorkers(routesFile, { GATEWAY_ROLLOUT: 'off' });
    traffic = startTraffic([gateway.url], { concurrency: 2, newConnections: true });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(readFileSync(routesFile, 'utf8')).toContain('split: { thoughts: 0 }');
    expect(controllerLines(gateway)).toEqual([]);
    expect((await send(`${gateway.adminUrl}/api/rollout`)).status).toBe(404);
    expect(parseMetrics((await send(`${gateway.adminUrl}/metrics`)).body).has(sample('gateway_rollout_percent', { route: 'thoughts' }))).toBe(false);
  }, 30_000);

  describe.skipIf(!hasChromium)('in headless Chromium', () => {
    let browser: BrowserPage | undefined;
    afterEach(() => browser?.close());

    it("the primary's dashboard shows the rollouts alone, says why, and its Promote button steps the rollout", async () => {
      const routesFile = writePlan('[50, pause, 100]', 2);
      gateway = await serveWithWorkers(routesFile);
      traffic = startTraffic([gateway.url], { concurrency: 4, newConnections: true });
      // The 404 of /api/plan is expected: it is how the page learns it is on a primary.
      browser = await openBrowserPage(1360, 900, (text) => text.includes('404'));
      const { page } = browser;
      await page.goto(gateway.adminUrl);
      const panel = page.locator('[data-rollout="thoughts"]');
      await expect.poll(() => panel.locator('[data-testid="rollout-status"]').textContent(), { timeout: 20_000 }).toBe('paused');
      expect(await page.locator('#rollouts-only').textContent()).toMatch(/^this admin port is a cluster primary's \(GATEWAY_WORKERS>1\)/);
      expect(await page.locator('#live-text').textContent()).toBe('rollouts only');
      // What needs one process's state is not drawn: no empty routes table, no panic button.
      for (const hidden of ['.headline', '#routes', '#audit', '#panic-open']) expect(await page.locator(hidden).isVisible(), hidden).toBe(false);
      expect(await page.locator('#error').isVisible()).toBe(false);
      await browser.screenshot('rollout-dashboard-cluster.png');

      await panel.getByRole('button', { name: 'Promote' }).click();
      await expect.poll(() => panel.locator('[data-testid="rollout-status"]').textContent(), { timeout: 10_000 }).toBe('completed');
      expect(readFileSync(routesFile, 'utf8')).toContain('split: { thoughts: 100 }');
      expect(audit(routesFile).map((a) => `${a.via} ${a.action} ${a.new.thoughts}`)).toEqual(['rollout step 50', 'rollout step 100']);
      expect(browser.problems).toEqual([]);
    }, 60_000);
  });
});

import { appendFileSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRouteTable } from '../src/config/compileRouteTable.ts';
import type { RouteTable } from '../src/config/routeTable.ts';
import { chooseBackend } from '../src/decide/chooseBackend.ts';
import { startBackend, type TestBackend } from './helpers/backends.ts';
import { scrape, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { send } from './helpers/http.ts';
import { cohortCookie, cohortId } from './helpers/cohort.ts';
import { routesYaml, sample } from './helpers/routes.ts';
import { startLoad } from '../../faults/load.ts';

let legacy: TestBackend;
let thoughts: TestBackend;

beforeAll(async () => {
  [legacy, thoughts] = await Promise.all([startBackend('legacy'), startBackend('thoughts')]);
});

afterAll(async () => {
  await Promise.all([legacy.close(), thoughts.close()]);
});

function planText(percent: number): string {
  return routesYaml(
    { legacy: legacy.url, thoughts: thoughts.url },
    `  - { name: api, match: { path: /api/** }, split: { thoughts: ${percent} }, fallback: legacy }
  - { name: site, match: { path: /** }, split: {} }`,
    'cohort: { salt: reload-test }',
  );
}

function tableOf(text: string): RouteTable {
  const result = compileRouteTable(text, 'routes.yaml');
  if (!result.ok) throw new Error('test plan invalid');
  return result.table;
}

const CLIENTS = Array.from({ length: 40 }, (_, i) => `client-${i}`);

/** Where each test client must land under a plan: computed independently of the running gateway. */
function expectedSides(text: string): string[] {
  const table = tableOf(text);
  const route = table.match('/api/thoughts/', 'GET', {})!;
  return CLIENTS.map((key) => chooseBackend(route, cohortId(key), () => false).backend.name);
}

async function actualSides(gateway: TestGateway): Promise<string[]> {
  const sides: string[] = [];
  for (const key of CLIENTS)
    sides.push((await send(`${gateway.url}/api/thoughts/`, { headers: { cookie: cohortCookie(key) } })).json<{ backend: string }>().backend);
  return sides;
}

/** Polls the admin /metrics until `predicate` holds; fails after `withinMs`. */
async function until(gateway: TestGateway, predicate: (metrics: Map<string, number>) => boolean, withinMs = 1_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (predicate(await scrape(gateway))) return;
    if (Date.now() > deadline) throw new Error(`condition not reached within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const weightOf = (metrics: Map<string, number>) => metrics.get(sample('gateway_route_weight_ratio', { route: 'api', backend: 'thoughts' }));
const lastSuccessAt = (metrics: Map<string, number>) => metrics.get('gateway_config_last_reload_success_timestamp_seconds') ?? 0;
const reloads = (metrics: Map<string, number>, result: string) => metrics.get(sample('gateway_config_reloads_total', { result })) ?? 0;

describe('hot reload', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway(planText(0));
  });

  afterAll(async () => {
    await gateway.stop();
  });

  it('applies 20 rewrites under load within a second each, with zero failed requests, and clients follow the weights', async () => {
    const load = startLoad({
      baseUrl: gateway.url,
      paths: ['/api/thoughts/'],
      clients: 3,
      headers: (w, i) => ({ cookie: cohortCookie(`load-${w}-${i % 50}`) }),
    });
    const weights = [100, 30, 70, 10, 90, 50, 0, 100, 25, 75, 5, 95, 40, 60, 20, 80, 35, 65, 15, 45];
    const successBefore = reloads(await scrape(gateway), 'success');
    for (const percent of weights) {
      const text = planText(percent);
      gateway.rewrite(text);
      await until(gateway, (m) => weightOf(m) === percent / 100);
      const sides = await actualSides(gateway);
      expect(sides).toEqual(expectedSides(text));
    }
    const { tried, failures } = await load.stop();
    expect(failures).toEqual([]);
    expect(tried).toBeGreaterThan(100);
    const metrics = await scrape(gateway);
    expect(reloads(metrics, 'success') - successBefore).toBe(20);
    expect(reloads(metrics, 'failure')).toBe(0);
  });

  it('keeps the running plan when the new file is invalid, logs the problem with its line, and counts a failure', async () => {
    const good = planText(50);
    gateway.rewrite(good);
    await until(gateway, (m) => weightOf(m) === 0.5);
    const failuresBefore = reloads(await scrape(gateway), 'failure');

    gateway.rewrite(good.replace('thoughts: 50', 'thougts: 80'));
    await until(gateway, (m) => reloads(m, 'failure') === failuresBefore + 1);

    expect(weightOf(await scrape(gateway))).toBe(0.5);
    expect(await actualSides(gateway)).toEqual(expectedSides(good));
    const rejection = gateway.logLines().find((line) => line.msg === 'plan rejected: the running plan stays in force');
    expect(rejection?.problems).toEqual([expect.stringMatching(/routes\.yaml:\d+: routes\[0\] \(api\)\.split\.thougts: unknown backend 'thougts'/)]);
  });

  it('picks up a file written in place (not replaced) too', async () => {
    writeFileSync(gateway.routesFile, planText(20));
    await until(gateway, (m) => weightOf(m) === 0.2);
    expect(await actualSides(gateway)).toEqual(expectedSides(planText(20)));
  });
});

describe('what the watch wakes for', () => {
  it('writes to other files beside routes.yaml re-read nothing; a rename-over save and a Kubernetes ..data swap still reload', async () => {
    const gateway = await startTestGateway(planText(10));
    try {
      const dir = path.dirname(gateway.routesFile);
      // An invalid routes.yaml in place: from now on every wake of the watch re-reads it, logs the
      // rejection and counts a failure, so a wake shows on /metrics.
      gateway.rewrite('routes: [');
      await until(gateway, (m) => reloads(m, 'failure') === 1, 5_000);
      // Files beside it written the ways the gateway and editors write them: appended (the audit
      // log), saved by renaming a temporary file over a neighbour. Spaced beyond the watch's quiet
      // period, so that each would be a wake of its own if other names woke it.
      for (let i = 0; i < 6; i++) {
        appendFileSync(path.join(dir, 'routes.audit.jsonl'), `{"n":${i}}\n`);
        writeFileSync(path.join(dir, '.notes.yaml.tmp'), `n: ${i}\n`);
        renameSync(path.join(dir, '.notes.yaml.tmp'), path.join(dir, 'notes.yaml'));
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      gateway.rewrite(planText(30));
      await until(gateway, (m) => weightOf(m) === 0.3, 5_000);
      const metrics = await scrape(gateway);
      expect([reloads(metrics, 'success'), reloads(metrics, 'failure')]).toEqual([1, 1]);
      expect(gateway.logLines().filter((line) => line.msg === 'plan rejected: the running plan stays in force')).toHaveLength(1);

      // A ConfigMap volume: routes.yaml → ..data/routes.yaml, and the kubelet renames a new
      // ..data link (to a new timestamped directory) over the old one.
      const version = (name: string, text: string) => {
        mkdirSync(path.join(dir, name));
        writeFileSync(path.join(dir, name, 'routes.yaml'), text);
      };
      version('..2026_12_07_01', planText(30));
      symlinkSync('..2026_12_07_01', path.join(dir, '..data'));
      symlinkSync('..data/routes.yaml', path.join(dir, '.routes.yaml.link'));
      renameSync(path.join(dir, '.routes.yaml.link'), gateway.routesFile);
      version('..2026_12_07_02', planText(60));
      symlinkSync('..2026_12_07_02', path.join(dir, '..data_tmp'));
      renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
      await until(gateway, (m) => weightOf(m) === 0.6, 5_000);
      expect(await actualSides(gateway)).toEqual(expectedSides(planText(60)));
    } finally {
      await gateway.stop();
    }
  });
});

describe('reload on request (the SIGHUP path)', () => {
  it('re-reads the file when asked, applying a valid one and rejecting an invalid one', async () => {
    const gateway = await startTestGateway(planText(0), { watch: false });
    try {
      const loadedAt = lastSuccessAt(await scrape(gateway));
      writeFileSync(gateway.routesFile, planText(100));
      expect(await actualSides(gateway)).toEqual(CLIENTS.map(() => 'legacy')); // not watching: nothing changed yet
      await new Promise((resolve) => setTimeout(resolve, 20)); // a reload visibly later than the start
      const applied = await gateway.reload();
      expect(applied.ok).toBe(true);
      expect(await actualSides(gateway)).toEqual(CLIENTS.map(() => 'thoughts'));
      const afterSuccess = await scrape(gateway);
      expect(afterSuccess.get('gateway_config_last_reload_successful')).toBe(1);
      expect(lastSuccessAt(afterSuccess)).toBeGreaterThan(loadedAt);

      writeFileSync(gateway.routesFile, 'routes: [');
      const rejected = await gateway.reload();
      expect(rejected.ok).toBe(false);
      expect(await actualSides(gateway)).toEqual(CLIENTS.map(() => 'thoughts'));
      const metrics = await scrape(gateway);
      expect([reloads(metrics, 'success'), reloads(metrics, 'failure')]).toEqual([1, 1]);
      // The ingress-nginx pair: the failed reload shows as 0, the timestamp stays at the last good one.
      expect(metrics.get('gateway_config_last_reload_successful')).toBe(0);
      expect(lastSuccessAt(metrics)).toBe(lastSuccessAt(afterSuccess));

      writeFileSync(gateway.routesFile, planText(0));
      expect((await gateway.reload()).ok).toBe(true);
      expect((await scrape(gateway)).get('gateway_config_last_reload_successful')).toBe(1);
    } finally {
      await gateway.stop();
    }
  });
});

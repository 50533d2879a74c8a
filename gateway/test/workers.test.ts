import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './helpers/backends.ts';
import { send } from './helpers/http.ts';
import { parseMetrics, routesYaml, sample } from './helpers/routes.ts';
import { cohortCookie } from './helpers/cohort.ts';
import { serveWithWorkers } from './helpers/cluster.ts';

const REQUESTS = 40;

let legacy: TestBackend;
let thoughts: TestBackend;
let dir: string;

beforeAll(async () => {
  [legacy, thoughts] = await Promise.all([startBackend('legacy'), startBackend('thoughts')]);
  dir = mkdtempSync(path.join(tmpdir(), 'gateway-workers-'));
});

afterAll(async () => {
  await Promise.all([legacy.close(), thoughts.close()]);
  rmSync(dir, { recursive: true, force: true });
});

function plan(thoughtsPercent: number): string {
  return routesYaml(
    { legacy: legacy.url, thoughts: thoughts.url },
    `  - { name: thoughts, match: { path: /api/thoughts/** }, split: { thoughts: ${thoughtsPercent} } }`,
  );
}

/** REQUESTS requests, each on a new connection, so the primary deals them out to both workers. */
async function sendMany(url: string): Promise<string[]> {
  const backends: string[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const reply = await send(url, { headers: { connection: 'close', cookie: cohortCookie(`client-${i}`) } });
    expect(reply.status).toBe(200);
    backends.push(reply.json<{ backend: string }>().backend);
  }
  return backends;
}

function pidsOf(lines: Record<string, unknown>[], since: number): Set<unknown> {
  return new Set(
    lines
      .slice(since)
      .filter((line) => line.msg === 'request')
      .map((line) => line.pid),
  );
}

describe('GATEWAY_WORKERS=2', () => {
  it('serves from both workers, sums their metrics, reloads both, and stops all on SIGTERM', async () => {
    const routesFile = path.join(dir, 'routes.yaml');
    writeFileSync(routesFile, plan(0));
    const gateway = await serveWithWorkers(routesFile);
    try {
      // Both workers answer, and the admin port counts every request once.
      const before = gateway.lines().length;
      expect(await sendMany(`${gateway.url}/api/thoughts/`)).toEqual(Array(REQUESTS).fill('legacy'));
      expect(pidsOf(gateway.lines(), before).size).toBe(2);
      const metrics = parseMetrics((await send(`${gateway.adminUrl}/metrics`)).body);
      expect(metrics.get(sample('gateway_requests_total', { route: 'thoughts', backend: 'legacy', decision: 'weight', code: '2xx' }))).toBe(REQUESTS);
      expect(metrics.get(sample('gateway_route_weight_ratio', { route: 'thoughts', backend: 'legacy' }))).toBe(1);
      expect((await send(`${gateway.adminUrl}/readyz`)).status).toBe(200);

      // A changed file applies in both workers.
      const temporary = path.join(dir, '.routes.yaml.tmp');
      writeFileSync(temporary, plan(100));
      renameSync(temporary, routesFile);
      for (let i = 0; i < 100; i++) {
        const reloads = parseMetrics((await send(`${gateway.adminUrl}/metrics`)).body).get(sample('gateway_config_reloads_total', { result: 'success' }));
        if (reloads === 2) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const afterReload = gateway.lines().length;
      expect(await sendMany(`${gateway.url}/api/thoughts/`)).toEqual(Array(REQUESTS).fill('thoughts'));
      expect(pidsOf(gateway.lines(), afterReload).size).toBe(2);
    } finally {
      gateway.child.kill('SIGTERM');
    }
    expect(await gateway.exited).toBe(0);
    await expect(send(`${gateway.url}/api/thoughts/`, { headers: { connection: 'close' } })).rejects.toThrow(/ECONNREFUSED/);
  }, 30_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilePlanStore } from '../src/plan/filePlanStore.ts';
import { scrape } from './helpers/gateway.ts';
import { send } from './helpers/http.ts';
import { startOpsSystem, type OpsSystem } from './helpers/opsFixture.ts';
import { sample } from './helpers/routes.ts';

// The counter Grafana's migration annotations come from: every audited change the running
// gateway picks up, whoever made it (another process through the PlanStore, as the CLI does,
// or the admin API), counted once per route of the change.
const changes = (metrics: Map<string, number>, action: string, route: string) => metrics.get(sample('gateway_plan_changes_total', { action, route })) ?? 0;

async function until(system: OpsSystem, predicate: (metrics: Map<string, number>) => boolean): Promise<Map<string, number>> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const metrics = await scrape(system.gateway);
    if (predicate(metrics)) return metrics;
    if (Date.now() > deadline) throw new Error('the plan change was not counted within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('gateway_plan_changes_total (the migration annotations)', () => {
  let system: OpsSystem;
  beforeAll(async () => {
    system = await startOpsSystem();
  });
  afterAll(async () => {
    await system.stop();
  });

  it('counts a shift written by another process once per route of the group, when the gateway runs it', async () => {
    const store = new FilePlanStore({ file: system.gateway.routesFile });
    const result = await store.change(
      { kind: 'shift', route: 'thoughts', backend: 'thoughts', percent: 30, only: false },
      { who: 'alice', via: 'cli', reason: 'canary clean', dryRun: false },
    );
    expect(result.ok).toBe(true);
    const metrics = await until(system, (m) => changes(m, 'shift', 'thoughts') === 1);
    expect(changes(metrics, 'shift', 'my-thoughts')).toBe(1);
    // A reload of the same file (SIGHUP) is not a second change.
    await system.gateway.reload();
    const again = await scrape(system.gateway);
    expect([changes(again, 'shift', 'thoughts'), changes(again, 'shift', 'my-thoughts')]).toEqual([1, 1]);
  });

  it('counts a panic from the admin API as panic', async () => {
    const reply = await send(`${system.gateway.adminUrl}/api/panic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ all: true, reason: 'drill' }),
    });
    expect(reply.status).toBe(200);
    const metrics = await until(system, (m) => changes(m, 'panic', 'thoughts') === 1);
    expect(changes(metrics, 'panic', 'my-thoughts')).toBe(1);
    expect(changes(metrics, 'shift', 'thoughts')).toBe(1);
  });
});

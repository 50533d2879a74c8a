// A controller that takes over a rollout (a new fleet leader, a process started again) takes
// up the interval the last one began instead of waiting a whole new one: its first check is
// due when that interval was, at once when that is past, and it judges the same interval (the
// baseline saved in the progress), not every request since the counters began. The real
// file plan store, progress file, gate reader and metrics; the clock is vitest's (setTimeout
// and Date), so an interval of 60 s passes without waiting for it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FilePlanStore } from '../src/plan/filePlanStore.ts';
import { readRecentAudit } from '../src/plan/auditLog.ts';
import { createGatewayLogger } from '../src/observe/logger.ts';
import { GatewayMetrics } from '../src/observe/metrics.ts';
import { LocalGateReader } from '../src/rollout/localGateReader.ts';
import { Notifier } from '../src/rollout/notifier.ts';
import type { RouteProgress } from '../src/rollout/progress.ts';
import { ProgressFile, progressFileFor } from '../src/rollout/progressFile.ts';
import { RolloutController } from '../src/rollout/rolloutController.ts';
import { RolloutMetrics } from '../src/rollout/rolloutMetrics.ts';
import type { RolloutView } from '../src/rollout/rolloutView.ts';

const ROUTES = `backends:
  legacy: { url: http://127.0.0.1:8001, legacy: true }
  thoughts: { url: http://127.0.0.1:8003 }
protect: []
routes:
  - name: thoughts
    match: { path: /api/thoughts/** }
    group: thoughts
    split: { thoughts: 0 }
    fallback: legacy
    rollout: { steps: [10, 50, 100], interval_seconds: 60, min_requests: 20, max_error_percent: 1, max_p95_ms: 3000, max_p95_ratio: 50 }
  - { name: site, match: { path: /** }, split: {} }
`;
const logger = createGatewayLogger(new Writable({ write: (_chunk, _encoding, done) => done() }));

let dir: string;
let routesFile: string;
/** The traffic's counters, as every controller's gate reader sees them. */
let metrics: GatewayMetrics;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  dir = mkdtempSync(path.join(tmpdir(), 'rollout-resume-'));
  routesFile = path.join(dir, 'routes.yaml');
  writeFileSync(routesFile, ROUTES);
  metrics = new GatewayMetrics({ defaultMetrics: false });
});

afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

/** A controller as a process (or a fleet leader) builds one; each has its own gate reader, so nothing but the progress file carries over. */
function controller(): RolloutController {
  const rolloutMetrics = new RolloutMetrics(new Registry());
  return new RolloutController({
    store: new FilePlanStore({ file: routesFile }),
    progress: new ProgressFile(progressFileFor(routesFile)),
    reader: new LocalGateReader(async () => new Map([['replica-1', await metrics.registry.getMetricsAsJSON()]])),
    metrics: rolloutMetrics,
    notifier: new Notifier(logger, rolloutMetrics),
    logger,
  });
}

/** `count` requests on the route: the new backend's answers (ok or failed) and as many legacy ones for the p95 baseline. */
function traffic(count: number, result: 'ok' | 'failed'): void {
  for (let i = 0; i < count; i++) {
    metrics.countAttempt('thoughts', 'thoughts', result);
    metrics.counters.record('thoughts', 'thoughts', 'weight', result === 'ok' ? 200 : 502, 0.02);
    metrics.counters.record('thoughts', 'legacy', 'weight', 200, 0.02);
  }
}

async function statusOf(rollouts: RolloutController): Promise<RolloutView> {
  const views = await rollouts.status('thoughts');
  if (!Array.isArray(views)) throw new Error(views.message);
  return views[0]!;
}

function progress(): RouteProgress {
  return (JSON.parse(readFileSync(progressFileFor(routesFile), 'utf8')) as { routes: Record<string, RouteProgress> }).routes.thoughts!;
}

/** The rollout's writes in the audit log (newest first there), oldest first, as the percents written. */
async function stepsWritten(): Promise<number[]> {
  const { entries } = await readRecentAudit(path.join(dir, 'routes.audit.jsonl'), 100);
  return entries
    .filter((entry) => entry.via === 'rollout')
    .map((entry) => entry.new.thoughts ?? 0)
    .reverse();
}

describe('a rollout taken over mid-interval', () => {
  it('is checked when the interval the last controller began is due, on that interval’s traffic only', async () => {
    // Failed requests before the rollout began: in no interval of it.
    traffic(200, 'failed');
    const first = controller();
    await first.start();
    expect(await stepsWritten()).toEqual([10]);
    expect((await statusOf(first)).nextCheckInSeconds).toBe(60);

    await vi.advanceTimersByTimeAsync(20_000);
    traffic(200, 'ok');
    await first.close(); // the leader is gone with its in-memory baseline; the progress stays

    const second = controller();
    await second.start();
    expect((await statusOf(second)).nextCheckInSeconds).toBe(40);
    await vi.advanceTimersByTimeAsync(39_000);
    expect(await stepsWritten()).toEqual([10]);
    await vi.advanceTimersByTimeAsync(1_000);
    await second.close(); // resolves once the check under way is written

    expect(await stepsWritten()).toEqual([10, 50]);
    const { lastCheck, window } = progress();
    expect(lastCheck?.verdict).toBe('passed');
    // The 200 requests of the interval, not the 200 failed ones from before it.
    expect(lastCheck?.gates.find((gate) => gate.gate === 'requests')?.value).toBe(200);
    // The judged interval is not left for a successor to judge again (closing, this controller began no new one).
    expect(window).toBeNull();
  });

  it('is checked at once when the interval the last controller began is past', async () => {
    const first = controller();
    await first.start();
    traffic(200, 'ok');
    await first.close();
    await vi.advanceTimersByTimeAsync(90_000);

    const second = controller();
    await second.start();
    expect((await statusOf(second)).nextCheckInSeconds).toBe(0);
    await vi.advanceTimersByTimeAsync(0);
    await second.close();
    expect(await stepsWritten()).toEqual([10, 50]);
  });

  it('starts a whole interval when the progress holds none it can take up', async () => {
    const first = controller();
    await first.start();
    await first.close();
    // As a progress saved before intervals were kept (or whose interval could not be saved).
    const file = progressFileFor(routesFile);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { routes: Record<string, RouteProgress> };
    writeFileSync(file, JSON.stringify({ ...saved, routes: { thoughts: { ...saved.routes.thoughts, window: null } } }));
    await vi.advanceTimersByTimeAsync(20_000);

    const second = controller();
    await second.start();
    expect((await statusOf(second)).nextCheckInSeconds).toBe(60);
    await second.close();
    expect(await stepsWritten()).toEqual([10]);
  });
});

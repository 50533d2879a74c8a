// The dashboard's rollout panel in a real headless Chromium (Debian `chromium`, driven by
// playwright-core) against a gateway running a rollout on the real services: the steps as a
// progress line, the gates of the last check, the timeline, and the Pause / Resume / Promote
// buttons changing routes.yaml. The screenshot is kept: test-results/rollout-dashboard.png.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../gateway/test/helpers/gateway.ts';
import { startTraffic, type Traffic } from '../support/rolloutTraffic.ts';
import { hasChromium, openBrowserPage, type BrowserPage } from '../support/chromium.ts';
import { percentInPlan, rolloutPlan, startRolloutBackends, type RolloutBackends } from '../support/rolloutBackends.ts';

describe.skipIf(!hasChromium)('the rollout panel in headless Chromium', () => {
  let backends: RolloutBackends;
  let gateway: TestGateway;
  let traffic: Traffic;
  let browser: BrowserPage;
  let page: Page;

  beforeAll(async () => {
    backends = await startRolloutBackends();
    gateway = await startTestGateway(
      rolloutPlan(backends, {
        split: 5,
        rollout: 'steps: [5, 25, pause, 50, 100], interval_seconds: 2, min_requests: 3, min_comparisons: 10, max_p95_ratio: 50, max_p95_ms: 3000',
      }),
      { backendUrls: {} },
    );
    browser = await openBrowserPage(1360, 1100);
    page = browser.page;
  }, 60_000);

  afterAll(async () => {
    await traffic?.stop();
    await browser?.close();
    await gateway?.stop();
    await backends?.stop();
  });

  const panel = () => page.locator('[data-rollout="thoughts"]');
  const panelStatus = () => panel().locator('[data-testid="rollout-status"]').textContent();
  const button = (name: string) => panel().getByRole('button', { name });
  const inFile = () => percentInPlan(readFileSync(gateway.routesFile, 'utf8'));

  it('pauses and resumes with the buttons, shows the steps, the gates and the timeline, and promotes past the pause step', async () => {
    await page.goto(gateway.adminUrl!);
    await expect.poll(panelStatus).toBe('progressing');
    expect(await panel().locator('.step').allTextContents()).toEqual(['5%', '25%', 'pause', '50%', '100%']);
    expect(await panel().locator('.step[aria-current="step"]').textContent()).toBe('5%');

    await button('Pause').click();
    await expect.poll(panelStatus).toBe('paused');
    expect(await gateway.rollout!.status('thoughts')).toMatchObject([{ status: 'paused', percent: 5 }]);
    await page.waitForTimeout(2_500); // an interval: paused means no check, no step
    expect(inFile()).toBe(5);
    await button('Resume').click();
    await expect.poll(panelStatus).toBe('progressing');
    // No traffic yet: the checks hold, inconclusive, and the panel says so.
    await expect.poll(() => panel().locator('tr[data-gate="requests"] .mark').textContent(), { timeout: 10_000 }).toBe('?');
    expect(inFile()).toBe(5);
    traffic = startTraffic([gateway.url]);

    await expect.poll(panelStatus, { timeout: 20_000 }).toBe('paused');
    expect(inFile()).toBe(25);
    expect(await panel().locator('.step[aria-current="step"]').textContent()).toBe('pause');
    expect(await panel().locator('.step.done').allTextContents()).toEqual(['5%', '25%']);
    expect(
      await panel()
        .locator('tr[data-gate]')
        .evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-gate')} ${r.querySelector('.mark')!.textContent}`)),
    ).toEqual(['requests ✓', 'error_percent ✓', 'p95_ms ✓', 'p95_ratio ✓', 'comparisons ✓', 'mismatch_percent ✓']);
    expect(await panel().locator('.timeline li').first().textContent()).toMatch(/paused 25% → 25%$/);
    await browser.screenshot('rollout-dashboard.png');

    await button('Promote').click();
    await expect.poll(() => panel().locator('.step[aria-current="step"]').textContent()).toBe('50%');
    expect(inFile()).toBe(50);
    expect(await panel().locator('.timeline li').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/step 25% → 50%$/)]));
    expect(browser.problems).toEqual([]);
  });
});

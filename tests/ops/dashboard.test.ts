// The dashboard in a real headless Chromium (Debian `chromium`, driven by playwright-core):
// it shows the plan and the traffic, shifts a route through its control (with the dry-run
// estimate in the confirmation), and the bar and routes.yaml on disk change. The screenshot
// is kept as a test artefact: test-results/dashboard.png.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf, groupSeed } from '../../gateway/src/core/bucket.ts';
import { sendAsClients, startOpsSystem, type OpsSystem } from '../../gateway/test/helpers/opsFixture.ts';
import { cohortId } from '../../gateway/test/helpers/cohort.ts';
import { hasChromium, openBrowserPage, type BrowserPage } from '../support/chromium.ts';

describe.skipIf(!hasChromium)('dashboard in headless Chromium', () => {
  let system: OpsSystem;
  let browser: BrowserPage;
  let page: Page;

  beforeAll(async () => {
    system = await startOpsSystem();
    // The refused shift below is answered 400 on purpose; the browser logs that as an error.
    browser = await openBrowserPage(1360, 1000, (text) => text.includes('status of 400'));
    page = browser.page;
  });
  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  });

  const route = (name: string) => page.locator(`[data-route="${name}"]`);
  const configuredShare = (name: string, backend: string) => route(name).locator(`.legend[data-kind="configured"] [data-backend="${backend}"]`);

  it('shows each route with its configured and realised split, and the migrated headline', async () => {
    await sendAsClients(system.gateway.url, '/api/thoughts/1', 200, 'browser');
    await sendAsClients(system.gateway.url, '/', 40, 'site');
    await page.goto(system.gateway.adminUrl!);
    await expect.poll(() => configuredShare('thoughts', 'thoughts').textContent()).toBe('thoughts 10%');
    await expect.poll(() => route('thoughts').locator('.legend[data-kind="realised"]').textContent()).toMatch(/thoughts \d+(\.\d)?%legacy \d+(\.\d)?%/);
    expect(await page.locator('#migrated').textContent()).toMatch(/^\d+(\.\d)?%$/);
    expect(await page.locator('#live-text').textContent()).toBe('live');
    expect(await page.locator('[data-route]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-route')))).toEqual([
      'my-thoughts',
      'thoughts',
      'login',
      'site',
    ]);
  });

  it('shifts a route with the control: confirmation with the estimate, then the bar and routes.yaml change', async () => {
    await route('thoughts').getByRole('button', { name: 'Shift…' }).click();
    const dialog = page.locator('#shift-dialog');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.locator('#shift-group').textContent()).toBe('Group thoughts: my-thoughts moves with it.');
    await dialog.getByLabel('Share of clients').first().fill('40');
    await dialog.getByLabel('Reason').fill('canary clean for two days');
    await dialog.getByLabel('Your name').fill('dana');
    expect(await dialog.getByRole('button', { name: 'Apply shift' }).isDisabled()).toBe(true);
    await dialog.getByRole('button', { name: 'Preview' }).click();
    const estimate = dialog.locator('[data-testid="estimate"]');
    // The clients sent above, replayed through the split by hand: buckets 1000..3999 move.
    const seed = groupSeed('ops-test', 'thoughts');
    const moving = Array.from({ length: 200 }, (_, i) => bucketOf(seed, cohortId(`browser-${i}`))).filter((b) => b >= 1000 && b < 4000).length;
    await expect
      .poll(() => estimate.textContent())
      .toContain(`Group thoughts (my-thoughts, thoughts): ${moving} of 200 recent clients (${Math.round((moving / 200) * 1000) / 10}%) change backend`);
    expect(await dialog.locator('pre').textContent()).toContain('+    split: { thoughts: 40 }   # canary');
    expect(readFileSync(system.gateway.routesFile, 'utf8')).toContain('split: { thoughts: 10 }   # canary');
    await browser.screenshot('dashboard-confirm.png', { fullPage: false });

    await dialog.getByRole('button', { name: 'Apply shift' }).click();
    await expect.poll(() => configuredShare('thoughts', 'thoughts').textContent()).toBe('thoughts 40%');
    expect(await configuredShare('my-thoughts', 'thoughts').textContent()).toBe('thoughts 40%');
    // The bar itself: the thoughts segment takes 40 % of the configured bar's width.
    const bar = await route('thoughts').locator('.bar.configured').boundingBox();
    const segment = await route('thoughts').locator('.bar.configured [data-backend="thoughts"]').boundingBox();
    expect(segment!.width / bar!.width).toBeCloseTo(0.4, 2);

    const text = readFileSync(system.gateway.routesFile, 'utf8');
    expect(text).toContain('    split: { thoughts: 40 }   # canary\n');
    expect(text).toContain('      thoughts: 40    # block style, with a comment\n      legacy: 60\n');
    expect(system.gateway.table().routes.find((r) => r.name === 'thoughts')!.slices[0]!.upTo).toBe(4000);
    await expect
      .poll(() => page.locator('#audit li').first().textContent())
      .toBe('0 s agothoughts: thoughts 10% → thoughts 40%dana (loopback admin) via admin — “canary clean for two days”');

    await sendAsClients(system.gateway.url, '/api/me/thoughts/1', 120, 'after');
    await page.waitForTimeout(2_500); // one poll: the realised bars take the new traffic
    await browser.screenshot('dashboard.png');
  });

  it('refuses an invalid shift in the dialog and leaves the file alone', async () => {
    const before = readFileSync(system.gateway.routesFile);
    await route('login').getByRole('button', { name: 'Shift…' }).click();
    const dialog = page.locator('#shift-dialog');
    await dialog.getByLabel('Share of clients').first().fill('150');
    await dialog.getByRole('button', { name: 'Preview' }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toContain('150 is more than 100 percent');
    expect(await dialog.getByRole('button', { name: 'Apply shift' }).isDisabled()).toBe(true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(readFileSync(system.gateway.routesFile).equals(before)).toBe(true);
  });

  it('the panic button sends everything back to legacy after a confirmation', async () => {
    await page.getByRole('button', { name: 'Panic: all to legacy' }).click();
    const dialog = page.locator('#panic-dialog');
    await expect.poll(() => dialog.locator('.estimate').textContent()).toMatch(/^2 routes go back to legacy/);
    await dialog.getByLabel('Reason').fill('5xx spike');
    await dialog.getByRole('button', { name: 'Send to legacy now' }).click();
    await expect.poll(() => configuredShare('thoughts', 'legacy').textContent()).toBe('legacy 100%');
    expect(readFileSync(system.gateway.routesFile, 'utf8')).toContain('    split: { thoughts: 0 }   # canary\n');
    expect(await page.locator('#audit li').first().textContent()).toContain('PANIC thoughts');
    expect(browser.problems).toEqual([]);
  });
});

// The dashboard's shadow mismatches panel in a real headless Chromium: a gateway shadows a
// route to a back end that answers one field differently; the panel shows the request, both
// statuses, the differing field and the export command, and no token of the request. The
// screenshot is kept as a test artefact: test-results/dashboard-mismatches.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from '../../gateway/test/helpers/backends.ts';
import { startTestGateway, type TestGateway } from '../../gateway/test/helpers/gateway.ts';
import { send } from '../../gateway/test/helpers/http.ts';
import { routesYaml } from '../../gateway/test/helpers/routes.ts';
import { waitForComparisons } from '../../gateway/test/helpers/shadow.ts';
import { hasChromium, openBrowserPage, type BrowserPage } from '../support/chromium.ts';

describe.skipIf(!hasChromium)('shadow mismatches on the dashboard', () => {
  let legacy: TestBackend;
  let candidate: TestBackend;
  let gateway: TestGateway;
  let browser: BrowserPage;

  beforeAll(async () => {
    const answer = (text: string) => (_req: unknown, res: import('node:http').ServerResponse) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ id: 1, text }]));
    [legacy, candidate] = await Promise.all([startBackend('legacy', answer('Hello')), startBackend('candidate', answer('hello'))]);
    const routes = `  - name: notes
    match: { path: /notes/** }
    split: {}
    shadow: { to: candidate, noise_percent: 0 }`;
    gateway = await startTestGateway(routesYaml({ legacy: legacy.url, candidate: candidate.url }, routes));
    browser = await openBrowserPage(1360, 1000);
  });
  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await Promise.all([legacy?.close(), candidate?.close()]);
  });

  it('lists the newest mismatches with the differing field and the command that exports them', async () => {
    await send(`${gateway.url}/notes/?q=1`, { headers: { authorization: 'Bearer not-a-real-token-value' } });
    expect(await waitForComparisons(gateway, 'notes', 1)).toMatchObject({ mismatch: 1 });
    const { page } = browser;
    await page.goto(gateway.adminUrl!);
    const card = page.locator('#mismatches-card');
    await expect.poll(() => card.isVisible(), { timeout: 10_000 }).toBe(true);
    const item = page.locator('#mismatches li').first();
    expect(await item.locator('.what').textContent()).toBe('notes GET /notes/?q=1');
    expect(await item.locator('.why').first().textContent()).toBe('legacy 200 → candidate 200');
    expect(await item.locator('.diff-line').allTextContents()).toEqual(['$[0].text: "Hello" → "hello"']);
    expect(await page.locator('#mismatches-export').textContent()).toBe('npx gateway mismatches export --route notes > notes-suite.json');
    expect(await page.locator('#mismatches-note').textContent()).toBe('1 recorded since start; the newest 1 here');
    expect(await card.textContent()).not.toContain('not-a-real-token-value');
    expect(browser.problems).toEqual([]);
    await browser.screenshot('dashboard-mismatches.png');
  });
});

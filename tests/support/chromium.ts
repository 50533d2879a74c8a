import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's `chromium`; the browser tests skip where it is not installed. */
const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-results');

export interface BrowserPage {
  readonly browser: Browser;
  readonly page: Page;
  /** Console errors and uncaught page errors (a CSP violation or a script error shows up here): a test expects none. */
  readonly problems: string[];
  /** Saves a full-page screenshot as test-results/NAME (a test artefact). */
  screenshot(name: string, options?: { fullPage?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/**
 * Headless Chromium (driven by playwright-core) with one page of `width` × `height`.
 * `expected` tells the console errors a test causes on purpose (e.g. a refused request).
 */
export async function openBrowserPage(width: number, height: number, expected: (text: string) => boolean = () => false): Promise<BrowserPage> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  const page = await browser.newPage({ viewport: { width, height } });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !expected(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return {
    browser,
    page,
    problems,
    async screenshot(name, { fullPage = true } = {}) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SCREENSHOTS, name), fullPage });
    },
    close: () => browser.close(),
  };
}

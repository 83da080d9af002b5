/**
 * Headless Debian Chromium driven by playwright-core, one per test file.
 * Screenshots go to test-results/screenshots (kept by CI as artifacts).
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';

const execFileAsync = promisify(execFile);
const ensureScript = fileURLToPath(new URL('../../scripts/ensure-chromium.sh', import.meta.url));
export const screenshotDir = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));

export interface BrowserSession {
  readonly browser: Browser;
  newPage(options?: { width?: number; height?: number; colorScheme?: 'light' | 'dark' }): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<BrowserSession> {
  const { stdout } = await execFileAsync('bash', [ensureScript]);
  const executablePath = stdout.trim().split('\n').pop() ?? '/usr/bin/chromium';
  // playwright gives every launch a fresh temporary profile (--user-data-dir) of its own.
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return {
    browser,
    async newPage(options = {}) {
      const context = await browser.newContext({
        viewport: { width: options.width ?? 1440, height: options.height ?? 900 },
        colorScheme: options.colorScheme ?? 'light',
        timezoneId: 'UTC',
      });
      return context.newPage();
    },
    async close() {
      await browser.close();
    },
  };
}

/** Saves a full-page screenshot under test-results/screenshots/NAME.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

// Debian's chromium, headless, driven by playwright-core (which downloads no browser of its own); axe-core run
// inside the page; screenshots under the build directory.
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const screenshotDir = process.env.PROFILED_SCREENSHOT_DIR || resolve(fileURLToPath(new URL('.', import.meta.url)), '../../build/browser-screenshots');
mkdirSync(screenshotDir, { recursive: true });

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // As root there is no sandbox; the network is closed, so nothing in the background may try to reach out.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// A fresh page at 1280x800 that records console errors and CSP violations (page.problems).
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, ...options });
  const page = await context.newPage();
  page.problems = [];
  // A refused API call (a 4xx the page expects and shows) is logged by the browser too; only other errors count.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.problems.push(m.text());
  });
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  return page;
}

// axe-core's serious and critical violations on the page as it is now.
export async function seriousViolations(page) {
  // evaluate is not subject to the page's Content-Security-Policy, unlike an injected <script>.
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

// Saves a screenshot as NAME.png under the screenshot directory: the whole page, or only what the viewport shows.
export async function screenshot(page, name, fullPage = true) {
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

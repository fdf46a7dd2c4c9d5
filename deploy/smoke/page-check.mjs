// Browser check for scripts/compose-smoke: open the page served by nginx in headless
// Chromium, upload a photo through the page's file input, and require that the page
// called the API successfully and logged no error (CSP violations show up as errors).
//   node deploy/smoke/page-check.mjs URL PHOTO SCREENSHOT
// Needs playwright-core (from frontend/node_modules) and /usr/bin/chromium.
import { createRequire } from 'node:module';
import path from 'node:path';

const [url, photo, screenshot] = process.argv.slice(2);
const require = createRequire(path.resolve('frontend/package.json'));
const { chromium } = require('playwright-core');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(url, { waitUntil: 'networkidle' });
  const detected = page.waitForResponse(
    (r) => r.url().includes('/api/v1/detect') && r.request().method() === 'POST', { timeout: 60_000 });
  await page.locator('input[type=file]').first().setInputFiles(photo);
  const response = await detected;
  if (response.status() !== 200) problems.push(`POST ${response.url()} answered ${response.status()}`);
  await page.waitForTimeout(1500);  // let the result render
  await page.screenshot({ path: screenshot, fullPage: true });
} catch (e) {
  problems.push(String(e));
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('page loaded, photo uploaded through the page, no console errors');

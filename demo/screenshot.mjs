// Screenshots the live viewer after a few simulated visits: `node build.mjs && node demo/screenshot.mjs`
// writes docs/viewer.png. Uses the machine's Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startDemo } from './server.mjs';

const out = fileURLToPath(new URL('../docs/viewer.png', import.meta.url));
const demo = await startDemo({
  port: 0,
  storePath: join(mkdtempSync(join(tmpdir(), 'tracklet-shot-')), 'events.db'),
  log: () => {},
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
  ],
});
const site = demo.urls.site;

/** One visitor (own storage, so own ids): runs `steps` on a page, then leaves so the last events are sent. */
const visit = async (steps) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', () => {}); // The error buttons throw on purpose.
  await steps(page);
  // Leaving the page sends what is queued (and the captures' reports made at page hide).
  await page.goto('about:blank');
  await page.waitForTimeout(300);
  await context.close();
};

await visit(async (page) => {
  await page.goto(
    site +
      'pricing?utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=campaign+analytics&gclid=Cj0KCQ-demo-123',
  );
  await page.click('#signup-team');
  await page.click('nav a[href="/blog/launch-week"]');
  for (let y = 0; y < 8; y++) (await page.mouse.wheel(0, 600), await page.waitForTimeout(80));
  await page.click('#newsletter');
});
await visit(async (page) => {
  await page.goto(site + '?trc_source=partner-blog&trc_cid=cmp-42&trc_medium=affiliate');
  await page.waitForLoadState('networkidle');
  await page.click('#throw-error');
  await page.click('#reject-promise');
  await page.click('#hero-signup');
});
await visit(async (page) => {
  await page.goto(demo.urls.spa);
  await page.click('#app-nav a[href="/app/settings"]');
  await page.click('#upgrade');
});

await visit(async (page) => {
  await page.goto(
    site +
      '?utm_source=newsletter&utm_medium=email&utm_campaign=launch-week&utm_content=header-link',
  );
  await page.waitForLoadState('networkidle');
  await page.click('#hero-signup');
  await page.click('nav a[href="/pricing"]');
  await page.click('#signup-pro');
  await page.click('text=Open the app');
  await page.click('#who a');
  await page.click('#login-form button[type="submit"]');
  await page.click('#new-project');
  await page.click('#app-nav a[href="/app/campaigns"]');
  await page.selectOption('#range', 'Last 30 days');
});
const context = await browser.newContext({
  viewport: { width: 1440, height: 1000 },
  deviceScaleFactor: 1,
});
const viewer = await context.newPage();
await viewer.goto(demo.urls.viewer);
await viewer.locator('.session').first().waitFor();
await viewer.waitForTimeout(2500); // Let the highlight of new rows fade and /status answer.
// Open the landing pageview of the newsletter visit (the newest session), to show an event's fields.
await viewer
  .locator('.session')
  .first()
  .locator('.ev[data-type="pageview"] summary')
  .first()
  .click();
mkdirSync(fileURLToPath(new URL('../docs/', import.meta.url)), { recursive: true });
await viewer.screenshot({ path: out });
console.log(`Saved ${out}`);
await browser.close();
await demo.close();

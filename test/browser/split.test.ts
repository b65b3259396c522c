// The script tag's second file (web-vitals and the captures): loaded from next to the first,
// late or never, and the first file's tracking does not depend on it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import type { EngagementEvent, ErrorEvent, TrackletEvent, VitalEvent } from '../../src/types';
import { html, launchBrowser, scriptTag, startServer, type TestServer } from './fixture';

const DIST = resolve(import.meta.dirname, '../../dist');
let server: TestServer;
let chromium: Awaited<ReturnType<typeof launchBrowser>>;
let browser: Browser;

beforeAll(async () => {
  server = await startServer();
  chromium = await launchBrowser();
  browser = chromium.browser;
  server.route('/elsewhere', html('', '<p>Another page</p>'));
});
afterAll(async () => {
  await chromium?.close();
  await server?.close();
});
beforeEach(() => server.clear());

let scope = '/';
const ofType = <T extends TrackletEvent>(type: T['type']) =>
  server.events().filter((event): event is T => event.type == type && event.path.startsWith(scope));
const names = () =>
  ofType<VitalEvent>('vital')
    .map((event) => event.metricName)
    .sort();

/** Serves both files under `dir`, the second one after `delay` ms (or `status` instead of the file). */
const serveScripts = (dir: string, delay: number, status = 200) => {
  const served: { requested: number; answered?: number } = { requested: 0 };
  server.route(`${dir}/tracklet.js`, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/javascript' });
    res.end(readFileSync(`${DIST}/tracklet.js`));
  });
  server.route(`${dir}/tracklet.captures.js`, (_req, res) => {
    served.requested = Date.now();
    setTimeout(() => {
      served.answered = Date.now();
      res.writeHead(status, { 'Content-Type': 'text/javascript' });
      res.end(status == 200 ? readFileSync(`${DIST}/tracklet.captures.js`) : 'not found');
    }, delay);
  });
  return served;
};

describe('the second file', () => {
  it(
    'reports LCP, CLS, INP, FCP and TTFB, and an earlier ' +
      'error, when it arrives after all of them happened',
    async () => {
      scope = '/late/page';
      const served = serveScripts('/late', 3000);
      const slow =
        `<button id="slow" onclick="const end = performance.now() ` +
        `+ 150; while (performance.now() < end);">Slow</button>`;
      server.route(
        '/late/page',
        html(
          scriptTag({ 'flush-interval': '100' }, '/late/tracklet.js'),
          `<h1>Largest text on the page</h1>${slow}`,
        ),
      );
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      // The second file holds up the load event while it is on its way: wait for the DOM only.
      await page.goto(server.origin + '/late/page', { waitUntil: 'domcontentloaded' });
      await page.waitForFunction(() => window.tracklet?.version);
      await page.waitForTimeout(300);
      // A layout shift, a slow interaction and an uncaught error, all before the second file arrives.
      await page.evaluate(() =>
        document.body.insertAdjacentHTML('afterbegin', '<div style="height:300px"></div>'),
      );
      await page.waitForTimeout(200);
      await page.click('#slow');
      await page.evaluate(() =>
        setTimeout(() => {
          throw new Error('thrown before the second file');
        }),
      );
      const doneBefore = Date.now();
      await server.waitFor(() => names().includes('FCP') && names().includes('TTFB'));
      expect(served.answered! - served.requested).toBeGreaterThanOrEqual(2900);
      expect(served.answered!).toBeGreaterThan(doneBefore);
      await page.goto(`${server.origin}/elsewhere`);
      await server.waitFor(() => names().length == 5 && ofType('error').length == 1);
      expect(names()).toEqual(['CLS', 'FCP', 'INP', 'LCP', 'TTFB']);
      const byName = Object.fromEntries(
        ofType<VitalEvent>('vital').map((vital) => [vital.metricName, vital]),
      );
      expect(byName.CLS.metricValue).toBeGreaterThan(0);
      expect(byName.INP.metricValue).toBeGreaterThanOrEqual(100);
      expect(byName.LCP.metricValue).toBeGreaterThan(0);
      expect(ofType<ErrorEvent>('error')[0]).toMatchObject({
        message: 'Uncaught Error: thrown before the second file',
        errorType: 'Error',
      });
      expect(errors).toEqual(['thrown before the second file']);
      await context.close();
    },
  );

  it('counts a tagged click made, and the time the page was visible, before it arrived', async () => {
    scope = '/early/page';
    const served = serveScripts('/early', 2000);
    server.route(
      '/early/page',
      html(
        scriptTag({ 'flush-interval': '100' }, '/early/tracklet.js'),
        '<button id="cta" data-tracklet-event="early_cta" data-tracklet-prop-plan="pro">Go</button>',
      ),
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(server.origin + '/early/page', { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.tracklet?.version);
    const opened = Date.now();
    await page.click('#cta');
    const clickedBefore = Date.now();
    await server.waitFor(() => ofType('event').length == 1);
    expect(served.answered!).toBeGreaterThan(clickedBefore);
    expect(ofType('event')).toMatchObject([{ name: 'early_cta', properties: { plan: 'pro' } }]);
    await page.waitForTimeout(500);
    await page.goto(`${server.origin}/elsewhere`);
    const shown = Date.now() - opened;
    await server.waitFor(() => ofType('engagement').length == 1);
    const [engaged] = ofType<EngagementEvent>('engagement');
    // Counted from the pageview, not from the second file's arrival 2 s later.
    expect(engaged.engagementTime).toBeGreaterThanOrEqual(2000);
    expect(engaged.engagementTime).toBeLessThanOrEqual(shown + 2000);
    await context.close();
  });

  it('leaves pageviews and custom events working when it fails to load', async () => {
    scope = '/broken/page';
    serveScripts('/broken', 0, 404);
    server.route(
      '/broken/page',
      html(scriptTag({ 'flush-interval': '100' }, '/broken/tracklet.js'), '<p>Page</p>'),
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(server.origin + '/broken/page');
    await page.waitForFunction(() => window.tracklet?.version);
    await page.evaluate(() => {
      window.tracklet.track('still_here');
      window.tracklet.identify('user-7');
    });
    await server.waitFor(
      () =>
        ofType('pageview').length == 1 &&
        ofType('event').length == 1 &&
        ofType('identify').length == 1,
    );
    expect(ofType('event')[0]).toMatchObject({ name: 'still_here' });
    expect(ofType('event')[0]).not.toHaveProperty('userId');
    await page.waitForTimeout(300);
    expect(names()).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('loads under script-src self with no violation', async () => {
    scope = '/csp-split';
    const CSP = "default-src 'none'; script-src 'self'; connect-src 'self'";
    server.route('/csp-split', (_req, res) => {
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': CSP,
      });
      res.end(html(scriptTag({ 'flush-interval': '100' }), '<h1>Contentful</h1>'));
    });
    const context = await browser.newContext();
    await context.addInitScript(() => {
      const seen: string[] = ((window as unknown as { violations: string[] }).violations = []);
      document.addEventListener('securitypolicyviolation', (event) =>
        seen.push(event.violatedDirective + ' ' + event.blockedURI),
      );
    });
    const page = await context.newPage();
    await page.goto(server.origin + '/csp-split');
    await server.waitFor(() => names().includes('FCP'));
    expect(
      await page.evaluate(() =>
        [...document.scripts].map((script) => new URL(script.src).pathname),
      ),
    ).toEqual(['/dist/tracklet.js', '/dist/tracklet.captures.js']);
    expect(
      await page.evaluate(() => (window as unknown as { violations: string[] }).violations),
    ).toEqual([]);
    await context.close();
  });
});

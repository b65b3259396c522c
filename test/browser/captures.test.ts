import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { EngagementEvent, ErrorEvent, TrackletEvent, VitalEvent } from '../../src/types';
import { html, launchBrowser, scriptTag, startServer, type TestServer } from './fixture';

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

// Events of this test's page only: a page closed by the previous test may still deliver its last beacon.
let scope = '/';
const ofType = <T extends TrackletEvent>(type: T['type']) =>
  server.events().filter((event): event is T => event.type == type && event.path.startsWith(scope));
const vitals = () => ofType<VitalEvent>('vital');
const names = () =>
  vitals()
    .map((event) => event.metricName)
    .sort();
const open = async (path: string): Promise<Page> => {
  scope = path;
  const page = await (await browser.newContext()).newPage();
  await page.goto(server.origin + path);
  await page.waitForFunction(() => window.tracklet?.version);
  return page;
};
const close = (page: Page) => page.context().close();

describe('web vitals in Chromium', () => {
  it('sends FCP and TTFB while the page is open, LCP and CLS once it is left, each once with its fields', async () => {
    server.route(
      '/vitals',
      html(scriptTag({ 'flush-interval': '100' }), '<h1>Largest text on the page</h1><p>Body</p>'),
    );
    const page = await open('/vitals');
    await server.waitFor(() => names().includes('FCP') && names().includes('TTFB'));
    // Once the heading has painted, a banner pushed in above it shifts the layout (CLS).
    await page.evaluate(() =>
      document.body.insertAdjacentHTML('afterbegin', '<div style="height:300px"></div>'),
    );
    await page.waitForTimeout(500);
    expect(names()).toEqual(['FCP', 'TTFB']);
    await page.goto(`${server.origin}/elsewhere`);
    await server.waitFor(() => names().length == 4);
    expect(names()).toEqual(['CLS', 'FCP', 'LCP', 'TTFB']);
    for (const vital of vitals()) {
      expect(vital).toMatchObject({
        path: '/vitals',
        url: `${server.origin}/vitals`,
        navigationType: 'navigate',
      });
      expect(vital.metricId).toMatch(/^v5-/);
      expect(['good', 'needs-improvement', 'poor']).toContain(vital.rating);
      expect(vital.metricValue).toBeGreaterThanOrEqual(0);
    }
    const cls = vitals().find((vital) => vital.metricName == 'CLS')!;
    expect(cls.metricValue).toBeGreaterThan(0);
    expect(cls.metricValue).toBeLessThan(1);
    expect(vitals().find((vital) => vital.metricName == 'LCP')!.metricValue).toBeGreaterThan(0);
    await close(page);
  });

  it('sends INP after a slow interaction, when the page is hidden', async () => {
    const slow =
      `<button id="slow" onclick="const end = performance.now() ` +
      `+ 150; while (performance.now() < end);">Slow</button>`;
    server.route('/inp', html(scriptTag({ 'flush-interval': '100' }), slow));
    const page = await open('/inp');
    await page.click('#slow');
    await page.waitForTimeout(300);
    await page.goto(`${server.origin}/elsewhere`);
    await server.waitFor(() => names().includes('INP'));
    const inp = vitals().find((event) => event.metricName == 'INP')!;
    expect(inp.metricValue).toBeGreaterThanOrEqual(150);
    expect(inp).toMatchObject({ path: '/inp', rating: expect.any(String) });
    await close(page);
  });

  it('reports the metrics of a page restored from the back/forward cache, under their own ids', async () => {
    server.route(
      '/restorable',
      html(
        scriptTag({ 'flush-interval': '100' }),
        '<h1>Cached page</h1><a id="go" href="/elsewhere">go</a>',
      ),
    );
    const page = await open('/restorable');
    await server.waitFor(() => names().includes('FCP'));
    await page.click('#go');
    await page.waitForURL('**/elsewhere');
    await page.goBack({ waitUntil: 'commit' });
    await server.waitFor(() =>
      vitals().some(
        (vital) => vital.navigationType == 'back-forward-cache' && vital.metricName == 'FCP',
      ),
    );
    const fcps = vitals().filter((vital) => vital.metricName == 'FCP');
    expect(fcps.map((vital) => vital.navigationType)).toEqual(['navigate', 'back-forward-cache']);
    expect(fcps[0].metricId).not.toBe(fcps[1].metricId);
    expect(fcps[1].path).toBe('/restorable');
    await close(page);
  });

  it('sends no vitals with data-vitals="false"', async () => {
    server.route(
      '/no-vitals',
      html(scriptTag({ 'flush-interval': '100', vitals: 'false' }), '<h1>Text</h1>'),
    );
    const page = await open('/no-vitals');
    await page.goto(`${server.origin}/elsewhere`);
    await server.waitFor(() => ofType('pageview').length == 1);
    await page.waitForTimeout(300);
    expect(vitals()).toEqual([]);
    await close(page);
  });
});

describe('JavaScript errors in Chromium', () => {
  it('sends a thrown TypeError and unhandled rejections with their fields', async () => {
    const failing = `<script>
      function fail() {
        setTimeout(() => null.x);
        Promise.reject(new RangeError('out of range'));
        Promise.reject('just a string');
        Promise.reject({ code: 42 });
      }
    </script>`;
    server.route(
      '/errors',
      html(scriptTag({ 'flush-interval': '100' }) + failing, '<p>Errors</p>'),
    );
    const page = await open('/errors');
    await page.evaluate(() => (window as unknown as { fail(): void }).fail());
    const received = () => ofType<ErrorEvent>('error');
    await server.waitFor(() => received().length == 4);
    const byMessage = (part: string) => received().find((event) => event.message.includes(part))!;
    expect(byMessage("reading 'x'")).toMatchObject({
      errorType: 'TypeError',
      message: "Uncaught TypeError: Cannot read properties of null (reading 'x')",
      filename: `${server.origin}/errors`,
      path: '/errors',
      count: 1,
    });
    expect(byMessage("reading 'x'").lineno).toBeGreaterThan(0);
    expect(byMessage("reading 'x'").colno).toBeGreaterThan(0);
    expect(byMessage("reading 'x'").stack).toContain('TypeError');
    expect(byMessage('out of range')).toMatchObject({
      errorType: 'RangeError',
      message: 'out of range',
    });
    expect(byMessage('out of range').stack).toContain('RangeError: out of range');
    expect(byMessage('just a string')).toMatchObject({
      errorType: 'UnhandledRejection',
      message: 'just a string',
    });
    expect(byMessage('42')).toMatchObject({
      errorType: 'UnhandledRejection',
      message: '{"code":42}',
    });
    await close(page);
  });

  it('sends an error thrown every frame once with its count, within data-max-errors', async () => {
    server.route(
      '/loop',
      html(scriptTag({ 'flush-interval': '100', 'max-errors': '3' }), '<p>Loop</p>'),
    );
    const page = await open('/loop');
    // Sixty frames that each throw the same TypeError, then five distinct errors.
    await page.evaluate(
      () =>
        new Promise<void>((done) => {
          let frames = 0;
          const loop = () => {
            if (++frames < 60) requestAnimationFrame(loop);
            else setTimeout(done);
            throw new TypeError('every frame');
          };
          requestAnimationFrame(loop);
        }),
    );
    await page.evaluate(() => {
      for (let i = 0; i < 5; i++) Promise.reject(new Error('distinct ' + i));
    });
    await server.waitFor(() => ofType('error').length == 3);
    await page.goto(`${server.origin}/elsewhere`);
    await page.waitForTimeout(500);
    const received = ofType<ErrorEvent>('error');
    // Three events at most; the first is the frame loop, its repeats folded into `count`. (On a
    // slow machine the loop outlasts the first second and its later repeats may take a slot.)
    expect(received).toHaveLength(3);
    expect(received[0].message).toBe('Uncaught TypeError: every frame');
    expect(received[0].count).toBeGreaterThan(1);
    for (const event of received)
      expect(event.message).toMatch(/^(Uncaught TypeError: every frame|distinct \d)$/);
    await close(page);
  });
  it("contains a failure inside Tracklet: not thrown into the page, not reported as the site's error", async () => {
    server.route('/contained', html(scriptTag({ 'flush-interval': '100' }), '<p>Contained</p>'));
    const page = await open('/contained');
    const thrown: string[] = [];
    page.on('pageerror', (error) => thrown.push(error.message));
    // A click dispatched on the document itself has no element target: the click capture fails on it.
    await page.evaluate(() => {
      document.dispatchEvent(new MouseEvent('click', { bubbles: true }));
      window.tracklet.track('after');
    });
    await server.waitFor(() => ofType('event').length == 1);
    await page.waitForTimeout(1300);
    expect(thrown).toEqual([]);
    expect(ofType('error')).toEqual([]);
    await close(page);
  });
});

describe('tagged clicks in Chromium', () => {
  it('delivers the event of a tagged link that navigates to another page', async () => {
    const link =
      '<a id="go" href="/elsewhere" data-tracklet-event="pricing_click" data-tracklet-prop-plan="pro">Pricing</a>';
    server.route(
      '/tagged',
      html(scriptTag({ 'flush-interval': '60000', 'batch-size': '100' }), link),
    );
    const page = await open('/tagged');
    await page.click('#go');
    await page.waitForURL('**/elsewhere');
    await server.waitFor(() => ofType('event').length > 0);
    expect(ofType('event')[0]).toMatchObject({
      name: 'pricing_click',
      properties: { plan: 'pro' },
      path: '/tagged',
    });
    await close(page);
  });

  it('tracks a tagged element added after load, and outbound links when switched on', async () => {
    server.route(
      '/later',
      html(
        scriptTag({ 'flush-interval': '100', outbound: 'true' }),
        '<a id="out" href="http://localhost:1/x" onclick="event.preventDefault()">out</a>',
      ),
    );
    const page = await open('/later');
    await page.evaluate(() => {
      document.body.insertAdjacentHTML(
        'beforeend',
        '<button id="late" data-tracklet-event="late_click" data-tracklet-prop-step="2">Late</button>',
      );
    });
    await page.click('#late');
    await page.click('#out');
    await server.waitFor(() => ofType('event').length == 2);
    expect(ofType('event')).toMatchObject([
      { name: 'late_click', properties: { step: '2' } },
      { name: 'outbound_click', properties: { url: 'http://localhost:1/x' } },
    ]);
    await close(page);
  });
});

/**
 * Headless Chromium keeps every page visible: a second tab, bringToFront, window.open, minimising
 * the window, focus emulation and Page.setWebLifecycleState leave `document.visibilityState` at
 * "visible". Leaving or closing the page hides it for real; a hidden-then-visible tab is emulated by
 * overriding `visibilityState` and firing `visibilitychange`, which is what the browser does.
 */
const setVisibility = (page: Page, state: 'visible' | 'hidden'): Promise<number> =>
  page.evaluate((state) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
    return Date.now();
  }, state);

/** Times compared with the page's own clock (the test's is late by the protocol round trips). */
const about = (actual: number, expected: number) => {
  expect(actual).toBeGreaterThanOrEqual(expected - 50);
  expect(actual).toBeLessThanOrEqual(expected + 300);
};

describe('engagement in Chromium', () => {
  const tall = '<div style="height:4000px;background:linear-gradient(#fff,#ccc)">Tall</div>';

  it(
    'ends a page view on SPA navigation with its scroll ' +
      'depth and engaged time, before the next pageview',
    async () => {
      server.route('/article', html(scriptTag({ 'flush-interval': '100' }), tall));
      const page = await open('/article');
      // Half of the document seen: the bottom of the window at half its height.
      await page.evaluate(() =>
        scrollTo(0, document.documentElement.scrollHeight / 2 - innerHeight),
      );
      await page.waitForTimeout(2000);
      const navigated = await page.evaluate(() => {
        history.pushState({}, '', '/article/next');
        return Date.now();
      });
      await server.waitFor(
        () => ofType('pageview').length == 2 && ofType('engagement').length == 1,
      );
      const [first, second] = ofType('pageview');
      const [engaged] = ofType<EngagementEvent>('engagement');
      expect(engaged).toMatchObject({
        path: '/article',
        url: `${server.origin}/article`,
        pageviewId: first.id,
      });
      expect(engaged.scrollDepth).toBeGreaterThanOrEqual(48);
      expect(engaged.scrollDepth).toBeLessThanOrEqual(52);
      // At least the 2 s waited after scrolling; at most the time since the pageview (the clock starts
      // then, or when the page first becomes visible if it loaded hidden).
      expect(engaged.engagementTime).toBeGreaterThanOrEqual(2000);
      expect(engaged.engagementTime).toBeLessThanOrEqual(navigated - first.timestamp + 50);
      const order = server
        .events()
        .filter((event) => event.path.startsWith('/article') && event.type != 'vital')
        .map((event) => event.type);
      expect(order).toEqual(['pageview', 'engagement', 'pageview']);
      expect(second.path).toBe('/article/next');
      await close(page);
    },
  );

  it('does not count the time the page was hidden', async () => {
    server.route('/tab', html(scriptTag({ 'flush-interval': '100' }), tall));
    const page = await open('/tab');
    // The second file (engagement) has started once the first vital arrives: on a loaded machine it
    // can come later than the hide below, and a capture that starts hidden counts nothing before it.
    await server.waitFor(() => vitals().length > 0);
    await page.waitForTimeout(1000);
    const hidden = await setVisibility(page, 'hidden');
    await page.waitForTimeout(3000);
    const visible = await setVisibility(page, 'visible');
    await page.waitForTimeout(1000);
    const end = await setVisibility(page, 'hidden');
    await server.waitFor(() => ofType('engagement').length == 2);
    const [pageview] = ofType('pageview');
    const times = ofType<EngagementEvent>('engagement').map((event) => event.engagementTime);
    expect(times[0]).toBeGreaterThanOrEqual(1000);
    expect(times[0]).toBeLessThanOrEqual(hidden - pageview.timestamp + 50);
    about(times[1], end - visible);
    // The 3 s hidden are in neither.
    expect(visible - hidden).toBeGreaterThanOrEqual(3000);
    expect(times[0] + times[1]).toBeLessThanOrEqual(end - pageview.timestamp - 3000 + 100);
    await close(page);
  });

  it('delivers the last engagement event when the tab is closed', async () => {
    server.route(
      '/closing',
      html(scriptTag({ 'flush-interval': '60000', 'batch-size': '100' }), tall),
    );
    const page = await open('/closing');
    await page.mouse.click(10, 10);
    await page.keyboard.press('a');
    await page.waitForTimeout(500);
    await page.close({ runBeforeUnload: true });
    await server.waitFor(() => ofType('engagement').length == 1);
    const [engaged] = ofType<EngagementEvent>('engagement');
    expect(engaged).toMatchObject({
      path: '/closing',
      interactionCount: 2,
      pageviewId: ofType('pageview')[0].id,
    });
    expect(engaged.engagementTime).toBeGreaterThanOrEqual(500);
  });
});

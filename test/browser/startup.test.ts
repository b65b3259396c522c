// The first file's start in real Chromium: storage (whose first read costs the page milliseconds)
// opens only once the page has loaded, at most 3 s after the start, or when the page is left first;
// the events of the start keep the time, place and campaign they were tracked with.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import {
  html,
  launchBrowser,
  scriptTag,
  startServer,
  untilQuiet,
  type TestServer,
} from './fixture';

let server: TestServer;
let chromium: Awaited<ReturnType<typeof launchBrowser>>;
let browser: Browser;

beforeAll(async () => {
  server = await startServer();
  chromium = await launchBrowser();
  browser = chromium.browser;
});
afterAll(async () => {
  await chromium?.close();
  await server?.close();
});
beforeEach(async () => {
  await untilQuiet(server);
  server.clear();
});

const byType = (type: string) => server.events().filter((event) => event.type == type);

/** Logs every use of `localStorage` and `sessionStorage` with whether the window's load event had run. */
const watchStorage = () => {
  const log: { name: string; loaded: boolean }[] = [];
  let loaded = false;
  addEventListener('load', () => (loaded = true));
  for (const name of ['localStorage', 'sessionStorage'] as const) {
    const get = (Object.getOwnPropertyDescriptor(window, name) ||
      Object.getOwnPropertyDescriptor(Window.prototype, name))!.get!;
    Object.defineProperty(window, name, {
      configurable: true,
      get() {
        log.push({ name, loaded });
        return get.call(window);
      },
    });
  }
  (window as unknown as { storageLog: typeof log }).storageLog = log;
};

/** An image the server answers only after `ms`: the page's load event waits for it. */
const slowImage = (ms: number) =>
  ((req, res) => {
    const timer = setTimeout(() => (res.writeHead(404), res.end()), ms);
    req.on('close', () => clearTimeout(timer));
  }) as Parameters<TestServer['route']>[1];

describe('the start of the first file', () => {
  it('uses no storage before the load event, then sends the pageview of the start with its ids', async () => {
    server.route('/start', html(scriptTag({ 'flush-interval': '100' }), '<h1>Start</h1>'));
    const context = await browser.newContext();
    await context.addInitScript(watchStorage);
    const page = await context.newPage();
    await page.goto(`${server.origin}/start`);
    const [pageview] = await server.waitFor(() => byType('pageview').length == 1);
    const seen = await page.evaluate(() => ({
      log: (window as unknown as { storageLog: { name: string; loaded: boolean }[] }).storageLog,
      aid: localStorage.getItem('tracklet:aid'),
      session: JSON.parse(localStorage.getItem('tracklet:session') || '{}').id,
      loadStart:
        performance.timeOrigin +
        performance.timing.loadEventStart -
        performance.timing.navigationStart,
    }));
    expect(seen.log.length).toBeGreaterThan(0);
    expect(seen.log.filter((use) => !use.loaded)).toEqual([]);
    expect(pageview).toMatchObject({
      anonymousId: seen.aid,
      sessionId: seen.session,
      path: '/start',
    });
    // Stamped when tracked, before the load event; its ids were filled in after.
    expect(pageview.timestamp).toBeLessThanOrEqual(Math.ceil(seen.loadStart));
    await context.close();
  });

  it('opens storage 3 s after the start on a page whose load event is late, and sends the pageview then', async () => {
    server.route('/slow.png', slowImage(15_000));
    server.route(
      '/late',
      html(scriptTag({ 'flush-interval': '100' }), '<img src="/slow.png" alt="">'),
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    const started = Date.now();
    await page.goto(`${server.origin}/late`, { waitUntil: 'domcontentloaded' });
    const [pageview] = await server.waitFor(() => byType('pageview').length == 1, 10_000);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(await page.evaluate(() => document.readyState)).not.toBe('complete');
    expect(pageview).toMatchObject({ path: '/late' });
    expect(pageview.anonymousId).toMatch(/^\w{16,}$/);
    await context.close();
  });

  it('delivers the pageview and calls of a page left before its load event', async () => {
    server.route('/slower.png', slowImage(15_000));
    server.route(
      '/left',
      html(scriptTag({ 'flush-interval': '60000' }), '<img src="/slower.png" alt="">'),
    );
    server.route('/next', html(''));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.origin}/left`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.tracklet?.version);
    await page.evaluate(() => window.tracklet.track('before_load'));
    expect(await page.evaluate(() => document.readyState)).not.toBe('complete');
    await page.goto(`${server.origin}/next`);
    const events = await server.waitFor(
      () => byType('pageview').length == 1 && byType('event').length == 1,
    );
    expect(events.map((event) => [event.type, event.path])).toEqual([
      ['pageview', '/left'],
      ['event', '/left'],
    ]);
    expect(events[0].sessionId).toBe(events[1].sessionId);
    await context.close();
  });

  it('keeps the landing campaign when the page strips it from the address before its load', async () => {
    server.route('/strip.js', (req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end("history.replaceState(null, '', location.pathname);");
    });
    server.route(
      '/land',
      html(scriptTag({ 'flush-interval': '100' }) + '<script defer src="/strip.js"></script>'),
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.origin}/land?utm_source=spring&utm_medium=mail`);
    const [first] = await server.waitFor(() => byType('pageview').length >= 1);
    expect(await page.evaluate(() => location.search)).toBe('');
    expect(first.url).toBe(`${server.origin}/land?utm_source=spring&utm_medium=mail`);
    expect(first.attribution).toMatchObject({ utm_source: 'spring', utm_medium: 'mail' });
    await context.close();
  });
});

// Wire version 4 in real Chromium: flushes leave gzip-compressed as text/plain (no preflight), the
// page-hide beacon at once, zlib-compressed with the preset dictionary (core/deflate.ts), and the
// relay's decoder rebuilds every event from both.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { TrackletEvent } from '../../src/types';
import { html, launchBrowser, scriptTag, startServer, type TestServer } from './fixture';

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
  // What a page closed by the previous test still delivers is waited for, then forgotten.
  let seen = -1;
  for (let i = 0; i < 20 && seen != server.received.length; i++) {
    seen = server.received.length;
    await new Promise((done) => setTimeout(done, 150));
  }
  server.clear();
});

type Named = { name?: string; properties?: { n?: number } };
const has = (event: unknown, name: string) => (event as Named).name == name;
const named = (name: string) =>
  server.events().filter((event) => has(event, name)) as (TrackletEvent & Named)[];

/** Waits until the second file (which installs the version-4 encoder) has arrived and run. */
const secondFile = async (page: Page) => {
  await page.waitForFunction(() =>
    performance
      .getEntriesByType('resource')
      .some((entry) => entry.name.endsWith('/tracklet.captures.js')),
  );
  await page.waitForTimeout(200);
};

describe('bodies on the wire', () => {
  it('gzips a flush, beacons at hide compressed, and every event arrives complete', async () => {
    server.route('/shop', html(scriptTag({ 'flush-interval': '0' })));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.origin}/shop`);
    await secondFile(page);
    await page.evaluate(() => {
      for (let n = 0; n < 10; n++) window.tracklet.track('zipped', { n });
    });
    await server.waitFor(() => named('zipped').length == 10);
    const flush = server.received.find((r) => r.batch?.events.some((e) => has(e, 'zipped')))!;
    expect(flush.gzip).toBe(true);
    expect(flush.contentType).toMatch(/^text\/plain/);
    expect(JSON.parse(flush.body)).toMatchObject({ v: 4, site: 'test-site' });
    expect(named('zipped').map((e) => e.properties?.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const event of named('zipped'))
      expect(event).toMatchObject({ url: `${server.origin}/shop`, path: '/shop' });

    await page.evaluate(() => window.tracklet.track('at-hide'));
    await page.close({ runBeforeUnload: true });
    await server.waitFor(() => named('at-hide').length == 1);
    const [last] = named('at-hide');
    const beacon = server.received.find((r) => r.batch?.events.some((e) => has(e, 'at-hide')))!;
    expect(beacon.gzip).toBe(false);
    // The beacon was plain text until the sync compressor (issue #17, bytes per visit).
    expect(beacon.zlib).toBe(true);
    expect(last).toMatchObject({ path: '/shop', anonymousId: named('zipped')[0].anonymousId });
    expect(Math.abs(last.timestamp - Date.now())).toBeLessThan(60_000);
    expect(server.received.every((r) => r.batch)).toBe(true);
    await context.close();
  });

  it('compresses the beacon of a closing tab, which decodes to every event of the page', async () => {
    server.route('/close', html(scriptTag({ engagement: 'true' })));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.origin}/close`);
    await secondFile(page);
    await page.evaluate(() => {
      for (let n = 0; n < 5; n++) window.tracklet.track('closing', { n, label: 'Ça coûte 5 €' });
    });
    // Within the flush interval: these leave only with the tab.
    await page.close({ runBeforeUnload: true });
    await server.waitFor(() => named('closing').length == 5);
    const beacon = server.received.find((r) => r.batch?.events.some((e) => has(e, 'closing')))!;
    expect(beacon.zlib).toBe(true);
    expect(beacon.contentType).toMatch(/^text\/plain/);
    expect(beacon.bytes).toBeLessThan(beacon.body.length / 2);
    expect(JSON.parse(beacon.body)).toMatchObject({ v: 4 });
    const pageview = server.events().find((e) => e.type == 'pageview')!;
    expect(named('closing')).toEqual(
      [0, 1, 2, 3, 4].map((n) =>
        expect.objectContaining({
          type: 'event',
          properties: { n, label: 'Ça coûte 5 €' },
          url: `${server.origin}/close`,
          path: '/close',
          anonymousId: pageview.anonymousId,
          sessionId: pageview.sessionId,
          timestamp: expect.any(Number),
        }),
      ),
    );
    // The engagement of the page goes in the same beacon, complete.
    expect(beacon.batch!.events).toContainEqual(
      expect.objectContaining({ type: 'engagement', pageviewId: pageview.id, path: '/close' }),
    );
    expect(new Set(server.events().map((e) => e.id)).size).toBe(server.events().length);
    await context.close();
  });

  it('sends plain text with data-compress="false"', async () => {
    server.route('/plain', html(scriptTag({ compress: 'false', 'flush-interval': '0' })));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.origin}/plain`);
    await secondFile(page);
    await page.evaluate(() => {
      for (let n = 0; n < 10; n++) window.tracklet.track('plain', { n });
    });
    await server.waitFor(() => named('plain').length == 10);
    expect(server.received.every((r) => !r.gzip)).toBe(true);
    // Still version 4: the attribute turns compression off, not the compact format.
    const flush = server.received.find((r) => r.batch?.events.some((e) => has(e, 'plain')))!;
    expect(JSON.parse(flush.body)).toMatchObject({ v: 4 });
    await context.close();
  });
});

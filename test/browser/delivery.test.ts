import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { html, launchBrowser, scriptTag, startServer, type TestServer } from './fixture';
import type { TrackletEvent } from '../../src/types';

let server: TestServer;
let chromium: Awaited<ReturnType<typeof launchBrowser>>;
let browser: Browser;
let context: BrowserContext;

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
  // Closed first: its pages' last beacons belong to the previous test.
  await context?.close();
  server.clear();
  server.collectorStatus = 204;
  context = await browser.newContext();
});

/** Opens `path` (a page with the script tag and `attributes`), collecting uncaught page errors. */
const open = async (path: string, attributes: Record<string, string> = {}, target?: Page) => {
  server.route(path, html(scriptTag(attributes)));
  const page = target || (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(server.origin + path);
  await page.waitForFunction(() => window.tracklet?.version);
  return { page, errors };
};

const ids = (events: TrackletEvent[]) => events.map((event) => event.id);
const named = (name: string) =>
  server.events().filter((event) => 'name' in event && event.name == name);
/** Ids the collector received (whatever it answered), with how many requests carried each. */
const copies = () => {
  const count = new Map<string, number>();
  for (const request of server.received)
    for (const event of request.batch?.events || [])
      count.set(event.id, (count.get(event.id) || 0) + 1);
  return count;
};
const report = (scenario: string, facts: Record<string, unknown>) =>
  console.log(`[delivery] ${scenario}: ${JSON.stringify(facts)}`);

describe('delivery in real Chromium', () => {
  it(
    'keeps events through a collector answering 503 for a whole page ' +
      'view, and delivers them from the next page with the same ids',
    async () => {
      server.collectorStatus = 503;
      const { page, errors } = await open('/down', { 'flush-interval': '100' });
      await page.evaluate(() => ['a', 'b', 'c'].forEach((name) => window.tracklet.track(name)));
      const refusedIds = () => [
        ...new Set(server.received.flatMap((request) => ids(request.batch!.events))),
      ];
      const refused = () =>
        server.received
          .flatMap((request) => request.batch!.events)
          .map((event) => ('name' in event ? event.name : event.type));
      // The pageview and the three events (and whatever the captures add) are refused, and retried.
      await expect
        .poll(() => ['pageview', 'a', 'b', 'c'].every((name) => refused().includes(name)), {
          timeout: 15_000,
        })
        .toBe(true);
      const tracked = refusedIds();
      const carrying = (id: string) =>
        server.received.filter((request) => ids(request.batch!.events).includes(id)).length;
      await expect
        .poll(() => Math.min(...tracked.map(carrying)), { timeout: 15_000 })
        .toBeGreaterThanOrEqual(2);
      // Leaving the page beacons the events: also refused.
      const requests = server.received.length;
      await open('/up', {}, page);
      await expect.poll(() => server.received.length).toBeGreaterThan(requests);
      server.collectorStatus = 204;
      await server.waitFor((events) => tracked.every((id) => ids(events).includes(id)), 20_000);
      const accepted = server.received.filter(
        (request) =>
          request.status < 300 && request.batch!.events.some((event) => tracked.includes(event.id)),
      );
      expect(accepted.every((request) => request.headers.referer?.endsWith('/up'))).toBe(true);
      expect(errors).toEqual([]);
      report('503 for a page view, then recovery', {
        requests503: server.received.filter((request) => request.status == 503).length,
        eventsTracked: tracked.length,
        arrivedFromNextPage: tracked.length,
        copiesReceivedPerEvent: tracked.map((id) => copies().get(id)),
      });
    },
  );

  it('retries when the browser comes back online', async () => {
    const { page, errors } = await open('/offline', { 'flush-interval': '100' });
    await page.evaluate(() => window.tracklet.flush());
    await server.waitFor((events) => events.some((event) => event.path == '/offline'));
    await context.setOffline(true);
    await page.evaluate(() => ['o1', 'o2'].forEach((name) => window.tracklet.track(name)));
    await page.waitForTimeout(1500);
    expect(named('o1')).toHaveLength(0);
    const back = Date.now();
    await context.setOffline(false);
    await server.waitFor(() => named('o1').length == 1 && named('o2').length == 1);
    expect(errors).toEqual([]);
    report('offline then online', { arrived: 2, msAfterOnline: Date.now() - back });
  });

  it('delivers when storage throws on every call, without an error in the page', async () => {
    await context.addInitScript(() => {
      const fail = () => {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      };
      Object.assign(Storage.prototype, {
        getItem: fail,
        setItem: fail,
        removeItem: fail,
        key: fail,
      });
    });
    const { page, errors } = await open('/nostorage', { 'flush-interval': '100' });
    await page.evaluate(() =>
      ['s1', 's2', 's3'].forEach((name) => window.tracklet.track(name, { ok: true })),
    );
    await page.evaluate(() => window.tracklet.flush());
    await server.waitFor(() => ['s1', 's2', 's3'].every((name) => named(name).length == 1));
    expect(errors).toEqual([]);
    report('storage that throws', { arrived: 4 });
  });

  it(
    'delivers 3,000 events tracked in one task, no body over 64 KiB',
    { timeout: 150_000 },
    async () => {
      const { page, errors } = await open('/bulk');
      const cost = await page.evaluate(async () => {
        const start = performance.now();
        for (let i = 0; i < 3000; i++) window.tracklet.track('bulk', { i, plan: 'pro' });
        const loop = performance.now() - start;
        // Microtasks (the outbox write) run before this timer: loop plus storage, all of the task.
        await new Promise((done) => setTimeout(done));
        return { loop, withStore: performance.now() - start };
      });
      await page.evaluate(() => window.tracklet.flush());
      // Generous: 24 requests one after another on a machine shared with other test runs.
      await server
        .waitFor(() => named('bulk').length == 3000, 90_000)
        .catch((error) => {
          throw new Error(
            (
              `${named('bulk').length} of 3000 arrived; answers ` +
              `${server.received.map((request) => request.status)}: ${error}`
            ).slice(0, 2000),
          );
        });
      const bulk = named('bulk');
      expect(
        new Set(
          bulk.map((event) => (event as unknown as { properties: { i: number } }).properties.i),
        ).size,
      ).toBe(3000);
      const sizes = server.received.map((request) => Buffer.byteLength(request.body));
      expect(Math.max(...sizes)).toBeLessThanOrEqual(65536);
      expect(errors).toEqual([]);
      report('3,000 events in one task', {
        loopMs: +cost.loop.toFixed(1),
        loopAndStoreMs: +cost.withStore.toFixed(1),
        requests: sizes.length,
        largestBody: Math.max(...sizes),
        duplicates: bulk.length - new Set(ids(bulk)).size,
      });
    },
  );

  it('lets two tabs share the outbox: every event arrives, none sent twice', async () => {
    const one = await open('/tab-one', { 'flush-interval': '100', 'batch-size': '5' });
    const two = await open('/tab-two', { 'flush-interval': '100', 'batch-size': '5' });
    const burst = (page: Page, name: string) =>
      page.evaluate(async (name) => {
        for (let i = 0; i < 40; i++) {
          window.tracklet.track(name, { i });
          if (i % 8 == 0) await new Promise((done) => setTimeout(done, 5));
        }
      }, name);
    await Promise.all([burst(one.page, 'one'), burst(two.page, 'two')]);
    await server.waitFor(() => named('one').length == 40 && named('two').length == 40, 20_000);
    await one.page.waitForTimeout(500);
    const twice = [...copies()].filter(([, count]) => count > 1);
    expect(twice).toEqual([]);
    expect([...one.errors, ...two.errors]).toEqual([]);
    report('two tabs', {
      arrived: server.events().length,
      requests: server.received.length,
      sentTwice: twice.length,
    });
  });

  it('delivers an event tracked right before the tab is closed', async () => {
    const { page } = await open('/closing', { 'flush-interval': '0', 'batch-size': '100' });
    await page.evaluate(() => window.tracklet.track('bye'));
    await page.close({ runBeforeUnload: true });
    await server.waitFor(() => named('bye').length == 1);
    report('tab closed right after track()', { arrived: named('bye').length });
  });

  it('resends from the next page, with the same id, an event whose closing beacon the collector refused', async () => {
    server.collectorStatus = 503;
    const { page } = await open('/closing', { 'flush-interval': '0', 'batch-size': '100' });
    await page.evaluate(() => window.tracklet.track('lost-beacon'));
    await page.close({ runBeforeUnload: true });
    await expect.poll(() => server.received.length).toBeGreaterThan(0);
    const [id] = ids(
      server.received
        .flatMap((request) => request.batch!.events)
        .filter((event) => 'name' in event && event.name == 'lost-beacon'),
    );
    server.collectorStatus = 204;
    await open('/later');
    await server.waitFor(() => named('lost-beacon').length == 1);
    expect(named('lost-beacon')[0].id).toBe(id);
    report('beacon refused at close, next page', {
      resentWithSameId: true,
      copiesReceived: copies().get(id),
    });
  });

  it('keeps working when the page patches JSON.stringify and Array.prototype.toJSON after load', async () => {
    const { page, errors } = await open('/patched', { 'flush-interval': '100' });
    await page.evaluate(() => {
      JSON.stringify = () => {
        throw new Error('patched by the page');
      };
      (Array.prototype as unknown as { toJSON(): string }).toJSON = () => 'broken';
      window.tracklet.track('after-patch', { list: [1, 2], nested: { deep: ['x'] } });
    });
    await page.evaluate(() => window.tracklet.flush());
    await server.waitFor(() => named('after-patch').length == 1);
    expect(named('after-patch')[0]).toMatchObject({
      properties: { list: [1, 2], nested: { deep: ['x'] } },
    });
    expect(errors).toEqual([]);
  });

  it('logs every enqueue, send, confirm, retry and drop with counts in the debug build', async () => {
    server.collectorStatus = 503;
    server.route(
      '/debug',
      html(scriptTag({ debug: 'true', 'flush-interval': '100' }, '/dist/tracklet.debug.js')),
    );
    const page = await context.newPage();
    const lines: string[] = [];
    page.on('console', (message) => lines.push(message.text()));
    await page.goto(server.origin + '/debug');
    await page.waitForFunction(() => window.tracklet?.version);
    const logged = (step: string) => lines.some((line) => line.startsWith('[tracklet] ' + step));
    await expect.poll(() => logged('retry in'), { timeout: 15_000 }).toBe(true);
    server.collectorStatus = 204;
    await expect.poll(() => logged('confirmed'), { timeout: 15_000 }).toBe(true);
    server.collectorStatus = 400;
    await page.evaluate(() => window.tracklet.track('refused'));
    await expect.poll(() => logged('dropped'), { timeout: 15_000 }).toBe(true);
    for (const step of ['queued', 'send', 'retry in', 'confirmed', 'dropped'])
      expect(lines.find((line) => line.startsWith('[tracklet] ' + step))).toMatch(
        /confirmed: \d+, retries: \d+, dropped: \d+/,
      );
  });
});

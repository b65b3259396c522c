// The GTM template's code on a real page with the built script: the sandboxed APIs it uses are
// given their page behaviour (as Tag Manager's runtime does), and the tags' calls reach the
// collector once each, whether they fire before the script has loaded (the stub queue) or after.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { CustomEvent } from '../../src/types';
import { parseTemplate } from '../gtm/harness';
import { html, launchBrowser, scriptTag, startServer, type TestServer } from './fixture';

const ROOT = join(import.meta.dirname, '../..');
const CODE = parseTemplate(
  readFileSync(join(ROOT, 'gtm/tracklet.tpl'), 'utf8'),
).SANDBOXED_JS_FOR_WEB_TEMPLATE;
let server: TestServer;
let chromium: Awaited<ReturnType<typeof launchBrowser>>;
let browser: Browser;

/**
 * Tag Manager's page side of the APIs the template requires, and `runTag(data)` to fire a tag
 * (the template's code with `data`, as Tag Manager runs it when a trigger fires).
 */
const runtime =
  `<script>
  (function () {
    const path = (key) => key.split('.');
    const get = (key) => path(key).reduce((value, part) => (value == null ? undefined : value[part]), window);
    const parentOf = (key) => path(key).slice(0, -1).reduce((value, part) => value[part], window);
    const injected = {};
    const apis = {
      callInWindow: (key, ...args) => get(key)(...args),
      copyFromWindow: (key) => get(key),
      createArgumentsQueue: (fnKey, arrayKey) => {
        if (typeof get(fnKey) != 'function') parentOf(fnKey)[path(fnKey).pop()] = function () { ` +
  `get(arrayKey).push(arguments); };
        if (!Array.isArray(get(arrayKey))) parentOf(arrayKey)[path(arrayKey).pop()] = [];
        return get(fnKey);
      },
      getType: (value) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value),
      injectScript: (url, onSuccess, onFailure, cacheToken) => {
        if (injected[cacheToken]) return onSuccess();
        injected[cacheToken] = true;
        const element = document.createElement('script');
        element.src = url;
        element.async = true;
        element.onload = onSuccess;
        element.onerror = onFailure;
        document.head.append(element);
      },
      logToConsole: (...args) => console.log(...args),
      makeNumber: (value) => Number(value),
      makeTableMap: (rows, key, value) => Object.fromEntries(rows.map((row) => [row[key], row[value]])),
    };
    const template = new Function('require', 'data', ${JSON.stringify(CODE)});
    window.tagResults = [];
    window.runTag = (data) => template((name) => apis[name], {
      ...data,
      gtmOnSuccess: () => tagResults.push('success'),
      gtmOnFailure: () => tagResults.push('failure'),
    });
  })();
</script>`;

beforeAll(async () => {
  server = await startServer();
  chromium = await launchBrowser();
  browser = chromium.browser;
});
afterAll(async () => {
  await chromium?.close();
  await server?.close();
});
beforeEach(() => server.clear());

const customs = () =>
  server.events().filter((event): event is CustomEvent => event.type == 'event');

describe('the GTM template on a page', () => {
  it('sends an event tag fired before the script loaded (queued) and one fired after (direct), once each', async () => {
    const early =
      `<script>runTag({ tagType: 'track', eventName: 'early', eventProperties: ` +
      `[{ name: 'sku', value: 'A1' }, { name: 'price', value: 9.5 }] })</script>`;
    server.route(
      '/gtm/track',
      html(
        runtime + early + scriptTag({ site: 'gtm-site', 'flush-interval': '100' }),
        '<p>Shop</p>',
      ),
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(server.origin + '/gtm/track');
    await page.waitForFunction(() => window.tracklet?.version);
    await page.evaluate(() =>
      (window as unknown as { runTag(data: object): void }).runTag({
        tagType: 'track',
        eventName: 'late',
      }),
    );
    await server.waitFor(() => customs().length == 2);
    await page.waitForTimeout(300);
    const results = await page.evaluate(
      () => (window as unknown as { tagResults: string[] }).tagResults,
    );
    await context.close();
    expect(customs().map((event) => [event.name, event.properties])).toEqual([
      ['early', { sku: 'A1', price: 9.5 }],
      ['late', undefined],
    ]);
    expect(server.events().filter((event) => event.type == 'pageview')).toHaveLength(1);
    expect(results).toEqual(['success', 'success']);
  });

  // tracklet('init') through the stub is the script's own (src/script.ts); this runs once it has it.
  it.skipIf(!/\binit\b/.test(readFileSync(join(ROOT, 'src/script.ts'), 'utf8')))(
    'a "Load and configure" tag injects the script and configures it through the stub, with no data-* attributes',
    async () => {
      const tags =
        `<script>
        runTag({ tagType: 'track', eventName: 'before_init' });
        runTag({ tagType: 'init', scriptUrl: location.origin + '/dist/tracklet.js', endpoint: ` +
        `location.origin + '/collect', site: 'gtm-site', includeLocal: true, flushInterval: ` +
        `'100', vitals: false, errors: false, clicks: false, engagement: false });
      </script>`;
      server.route('/gtm/init', html(runtime + tags, '<p>Shop</p>'));
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(server.origin + '/gtm/init');
      await server.waitFor(
        (events) => events.some((event) => event.type == 'pageview') && customs().length == 1,
      );
      await page.waitForTimeout(300);
      await context.close();
      expect(new Set(server.received.map((request) => request.batch?.site))).toEqual(
        new Set(['gtm-site']),
      );
      expect(customs().map((event) => event.name)).toEqual(['before_init']);
      expect(server.events().filter((event) => event.type == 'pageview')).toHaveLength(1);
    },
  );
});

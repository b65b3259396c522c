// tracklet/react in a React app bundled by Vite, in real Chromium: one tracker however often the
// provider renders or mounts, and one pageview per route change of an App Router-style history
// (its own state objects in pushState, replaceState of the same URL after commits).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import react from '@vitejs/plugin-react';
import type { CustomEvent, PageviewEvent } from '../../src/types';
import { launchBrowser, startServer, type TestServer } from './fixture';

const ROOT = resolve(import.meta.dirname, '../..');
const APP = join(import.meta.dirname, 'react-app');
const ROUTES = ['/app/', '/app/products', '/app/products/42', '/app/about'];
let server: TestServer;
let chromium: Awaited<ReturnType<typeof launchBrowser>>;
let browser: Browser;
let out: string;

/** Bundles the app with Vite's JS API (the built tracklet/react from dist/), as an app's build would. */
const bundle = async (mode: 'development' | 'production', outDir: string) => {
  await build({
    root: APP,
    base: '/app/',
    mode,
    configFile: false,
    logLevel: 'error',
    plugins: [react()],
    // The app's own build decides React's build: StrictMode's double mount exists in development only.
    define: { 'process.env.NODE_ENV': JSON.stringify(mode) },
    resolve: {
      alias: [
        { find: /^tracklet\/react$/, replacement: join(ROOT, 'dist/npm/react.js') },
        { find: /^tracklet$/, replacement: join(ROOT, 'dist/npm/index.js') },
      ],
    },
    build: { outDir, emptyOutDir: true, minify: mode == 'production' },
  });
};

/** Serves a built app under `/app/`: its assets, and its index.html for every route. */
const serve = (dir: string) => {
  const index = readFileSync(join(dir, 'index.html'), 'utf8');
  for (const route of ROUTES) server.route(route, index);
  for (const file of readdirSync(join(dir, 'assets'))) {
    const body = readFileSync(join(dir, 'assets', file));
    server.route(`/app/assets/${file}`, (_req, res) => {
      res.writeHead(200, {
        'Content-Type': extname(file) == '.js' ? 'text/javascript' : 'application/octet-stream',
      });
      res.end(body);
    });
  }
};

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'tracklet-react-'));
  server = await startServer();
  chromium = await launchBrowser();
  browser = chromium.browser;
}, 120_000);
afterAll(async () => {
  await chromium?.close();
  await server?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});
beforeEach(() => server.clear());

const pageviews = () =>
  server.events().filter((event): event is PageviewEvent => event.type == 'pageview');
const customs = () =>
  server.events().filter((event): event is CustomEvent => event.type == 'event');

describe.each(['development', 'production'] as const)('a React app built by Vite (%s)', (mode) => {
  beforeAll(async () => {
    const dir = join(out, mode);
    await bundle(mode, dir);
    serve(dir);
  }, 120_000);

  it(
    'sends one pageview per route change, none for replaceState ' +
      'of the same URL, and one tracker however often it renders',
    async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(server.origin + '/app/');
      await server.waitFor(() => pageviews().length == 1);
      // StrictMode mounted, unmounted and mounted the app again in development: the effect ran twice.
      expect(await page.evaluate(() => window.appMounts)).toBe(mode == 'development' ? 2 : 1);

      const steps: [action: () => Promise<unknown>, path: string | undefined][] = [
        [() => page.click('a[href="/app/products"]'), '/app/products'],
        [() => page.click('a[href="/app/products/42"]'), '/app/products/42'],
        // router.refresh(): a new tree for the same URL, written with replaceState. Not a route change.
        [() => page.click('#refresh'), undefined],
        [() => page.click('#buy'), undefined],
        [() => page.goBack(), '/app/products'],
        [() => page.goForward(), '/app/products/42'],
        [() => page.click('a[href="/app/about?from=nav"]'), '/app/about'],
        // A link to the page already shown: the router replaces the entry with the same URL.
        [() => page.click('a[href="/app/about?from=nav"]'), undefined],
      ];
      const expected = ['/app/'];
      for (const [action, path] of steps) {
        await action();
        if (path) expected.push(path);
        await page.waitForFunction((path) => !path || location.pathname == path, path);
        await server.waitFor(() => pageviews().length >= expected.length);
      }
      await server.waitFor(() => customs().length == 3);
      // Whatever a duplicate tracker or a missed replaceState would have sent has had time to arrive.
      await page.waitForTimeout(500);
      await context.close();

      expect(pageviews().map((event) => event.path)).toEqual(expected);
      // Each pageview's referrer is the previous route (the same tracker saw them all).
      expect(
        pageviews()
          .map((event) => new URL(event.referrer || 'http://none/').pathname)
          .slice(1),
      ).toEqual(expected.slice(0, -1));
      expect(pageviews().map((event) => new URL(event.url).search)).toEqual(
        expected.map((path) => (path == '/app/about' ? '?from=nav' : '')),
      );
      // The product page's mount effect sent product_viewed on each of its two views; the button once.
      expect(customs().map((event) => [event.name, event.path])).toEqual([
        ['product_viewed', '/app/products/42'],
        ['add_to_cart', '/app/products/42'],
        ['product_viewed', '/app/products/42'],
      ]);
      expect(customs()[1].properties).toEqual({ sku: '42' });
      expect(new Set(server.events().map((event) => event.sessionId)).size).toBe(1);
      // The nested provider (site "second-provider") started nothing; the layout re-rendered many times.
      expect(new Set(server.received.map((request) => request.batch?.site))).toEqual(
        new Set(['react-app']),
      );
      expect(errors).toEqual([]);
    },
  );

  it(
    'keeps what a component sends before the provider’s effect ' +
      'ran (a deep link) and sends it once, after the first pageview',
    async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      // Children's effects run before their parents': product_viewed is sent before init().
      const warnings: string[] = [];
      page.on('console', (message) => message.type() == 'warning' && warnings.push(message.text()));
      await page.goto(server.origin + '/app/products/42');
      await server.waitFor(() => customs().length == 1);
      await page.waitForTimeout(500);
      await context.close();
      expect(server.events().map((event) => [event.type, event.path])).toEqual([
        ['pageview', '/app/products/42'],
        ['event', '/app/products/42'],
      ]);
      expect(customs()[0]).toMatchObject({
        name: 'product_viewed',
        properties: { sku: '42' },
        sessionId: pageviews()[0].sessionId,
      });
      // The nested provider's effect ran first, and was ignored: the outer provider's options apply
      // (its site, and its 100 ms flush interval rather than the default 5 s).
      expect(new Set(server.received.map((request) => request.batch?.site))).toEqual(
        new Set(['react-app']),
      );
      expect(
        warnings.filter((text) => /TrackletProvider inside another/.test(text)).length,
      ).toBeGreaterThan(0);
    },
  );
});

import { readFileSync } from 'node:fs';
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

describe('script tag in a real page', () => {
  it('sends the first pageview with the landing attribution, as text/plain with no preflight', async () => {
    server.route('/landing', html(scriptTag(), '<a id="next" href="/second">next</a>', 'Landing'));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(
      `${server.origin}/landing?utm_source=news&utm_campaign=spring&trc_cid=42&gclid=abc&other=1`,
    );
    await page.evaluate(() => window.tracklet.flush());
    const [pageview] = await server.waitFor((events) =>
      events.some((event) => event.type == 'pageview'),
    );
    expect(pageview).toMatchObject({
      type: 'pageview',
      path: '/landing',
      title: 'Landing',
      attribution: { utm_source: 'news', utm_campaign: 'spring', trc_cid: '42', gclid: 'abc' },
    });
    expect(pageview.attribution).not.toHaveProperty('other');
    expect(server.received[0].contentType).toMatch(/^text\/plain/);
    expect(server.received[0].batch).toMatchObject({ v: 1, site: 'test-site' });
    await context.close();
  });

  it('sends SPA pageviews for pushState, replaceState to a new path and popstate, never twice in a row', async () => {
    server.route('/app', html(scriptTag({ 'flush-interval': '100' })));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.origin}/app`);
    await page.waitForFunction(() => window.tracklet?.version);
    await page.evaluate(() => {
      history.pushState({}, '', '/app/a');
      history.replaceState({}, '', '/app/a'); // same URL: no pageview
      history.pushState({}, '', '/app/b');
      history.replaceState({}, '', '/app/c');
    });
    await page.goBack();
    await server.waitFor(() => byType('pageview').length >= 5);
    await page.waitForTimeout(300);
    expect(byType('pageview').map((event) => event.path)).toEqual([
      '/app',
      '/app/a',
      '/app/b',
      '/app/c',
      '/app/a',
    ]);
    const [, second] = byType('pageview');
    expect(second).toMatchObject({ referrer: `${server.origin}/app` });
    expect(second).not.toHaveProperty('attribution');
    await context.close();
  });

  it('keeps the anonymous and session ids across pages and reloads, and sends custom events', async () => {
    server.route('/one', html(scriptTag()));
    server.route('/two', html(scriptTag()));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.origin}/one`);
    await page.waitForFunction(() => window.tracklet?.version);
    await page.evaluate(() => window.tracklet.track('signup', { plan: 'pro', seats: 3 }));
    await page.goto(`${server.origin}/two`);
    await page.reload();
    await page.evaluate(() => window.tracklet.flush());
    await server.waitFor(() => byType('pageview').length == 3);
    const events = server.events();
    expect(new Set(events.map((event) => event.anonymousId)).size).toBe(1);
    expect(new Set(events.map((event) => event.sessionId)).size).toBe(1);
    expect(events.filter((event) => event.attribution)).toHaveLength(1);
    expect(byType('event')).toMatchObject([
      { name: 'signup', properties: { plan: 'pro', seats: 3 }, path: '/one' },
    ]);
    await context.close();
  });

  it('starts a new session after 30 minutes of inactivity, keeping the anonymous id', async () => {
    server.route('/clock', html(scriptTag()));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.clock.install();
    await page.goto(`${server.origin}/clock`);
    await page.waitForFunction(() => window.tracklet?.version);
    const first = await page.evaluate(() => [
      window.tracklet.getAnonymousId(),
      window.tracklet.getSessionId(),
    ]);
    await page.clock.fastForward('29:00');
    const same = await page.evaluate(() => window.tracklet.getSessionId());
    await page.clock.fastForward('31:00');
    const next = await page.evaluate(() => window.tracklet.getSessionId());
    await page.reload();
    await page.waitForFunction(() => window.tracklet?.version);
    expect(same).toBe(first[1]);
    expect(next).not.toBe(first[1]);
    expect(await page.evaluate(() => window.tracklet.getAnonymousId())).toBe(first[0]);
    await context.close();
  });

  it('delivers events tracked just before navigating away (pagehide flush)', async () => {
    server.route(
      '/leave',
      html(
        scriptTag({ 'flush-interval': '0', 'batch-size': '100' }),
        '<a id="go" href="/away">go</a>',
      ),
    );
    server.route('/away', html(''));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.origin}/leave`);
    await page.waitForFunction(() => window.tracklet?.version);
    await page.evaluate(() => {
      window.tracklet.track('clicked_out');
      (document.getElementById('go') as HTMLAnchorElement).click();
    });
    await page.waitForURL('**/away');
    await server.waitFor(() => byType('event').length == 1);
    expect(byType('event')[0]).toMatchObject({ name: 'clicked_out', path: '/leave' });
    await context.close();
  });

  it('stays eligible for the back/forward cache and counts a restored page as a pageview', async () => {
    server.route('/cached', html(scriptTag(), '<a id="go" href="/elsewhere">go</a>'));
    server.route('/elsewhere', html(''));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.origin}/cached`);
    await page.waitForFunction(() => window.tracklet?.version);
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
    await page.click('#go');
    await page.waitForURL('**/elsewhere');
    // A page restored from the bfcache fires no load event: wait for the commit only.
    await page.goBack({ waitUntil: 'commit' });
    await page.waitForFunction(() => location.pathname == '/cached');
    // The same JavaScript heap came back: the page was restored from the bfcache, not reloaded.
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
    await page.evaluate(() => window.tracklet.flush());
    await server.waitFor(() => byType('pageview').length == 2);
    expect(byType('pageview').map((event) => event.path)).toEqual(['/cached', '/cached']);
    await context.close();
  });

  it('replays calls queued by the stub before the script loaded, and runs once when pasted twice', async () => {
    const stub =
      `<script>window.tracklet=window.tracklet||function(){` +
      `(tracklet.q=tracklet.q||[]).push(arguments)};` +
      `tracklet('identify','user-7',{plan:'pro'});tracklet('track','early',{n:1})</script>`;
    server.route('/stub', html(stub + scriptTag() + scriptTag()));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.origin}/stub`);
    await page.waitForFunction(() => window.tracklet?.version);
    await page.evaluate(() => window.tracklet.flush());
    await server.waitFor(() => byType('event').length == 1 && byType('identify').length == 1);
    await page.waitForTimeout(200);
    expect(byType('pageview')).toHaveLength(1);
    expect(byType('identify')[0]).toMatchObject({ userId: 'user-7', traits: { plan: 'pro' } });
    expect(byType('event')[0]).toMatchObject({ name: 'early', userId: 'user-7' });
    await context.close();
  });

  it('stays inert with one clear warning when data-endpoint is missing', async () => {
    server.route('/broken', html(scriptTag({ endpoint: '' })));
    const context = await browser.newContext();
    const page = await context.newPage();
    const warnings: string[] = [];
    const errors: string[] = [];
    page.on('console', (message) => message.type() == 'warning' && warnings.push(message.text()));
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.origin}/broken`);
    await page.waitForFunction(() => window.tracklet?.version);
    await page.evaluate(() => window.tracklet.track('ignored'));
    await page.waitForTimeout(300);
    expect(warnings).toEqual([expect.stringContaining('data-endpoint')]);
    expect(errors).toEqual([]);
    expect(server.received).toHaveLength(0);
    await context.close();
  });
});

describe('npm build in a page', () => {
  it('imports the ESM build, sends the pageview and custom events', async () => {
    server.route(
      '/npm',
      // The npm build leaves `web-vitals` to the app's bundler; without one, an import map resolves it.
      html(`<script type="importmap">{"imports":{"web-vitals":"/web-vitals"}}</script><script type="module">
        import { init, track, getAnonymousId } from '/dist/npm/index.js';
        track('before_init');
        init({ endpoint: '/collect', site: 'npm-site', includeLocal: true });
        track('after_init', { ok: true });
        window.ready = getAnonymousId();
      </script>`),
    );
    server.route('/web-vitals', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(readFileSync('node_modules/web-vitals/dist/web-vitals.js'));
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.origin}/npm`);
    await page.waitForFunction(() => (window as unknown as { ready?: string }).ready);
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    await page.close({ runBeforeUnload: true });
    await server.waitFor(() => byType('event').length == 2);
    expect(server.received[0].batch?.site).toBe('npm-site');
    expect(byType('event').map((event) => 'name' in event && event.name)).toEqual([
      'before_init',
      'after_init',
    ]);
    expect(byType('pageview')).toHaveLength(1);
    await context.close();
  });
});

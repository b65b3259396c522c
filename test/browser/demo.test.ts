import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startDemo } from '../../demo/server.mjs';
import { launchBrowser } from './fixture';

const ROOT = resolve(import.meta.dirname, '../..');
const storePath = join(mkdtempSync(join(tmpdir(), 'tracklet-demo-')), 'events.db');

let demo: Awaited<ReturnType<typeof startDemo>>;
let chromium: Awaited<ReturnType<typeof launchBrowser>>;
let browser: Browser;

beforeAll(async () => {
  demo = await startDemo({ port: 0, storePath, log: () => {} });
  chromium = await launchBrowser();
  browser = chromium.browser;
});
afterAll(async () => {
  await chromium?.close();
  await demo?.close();
});

/** The viewer's card of the session whose attribution mentions `text`. */
const sessionCard = (viewer: Page, text: string) =>
  viewer.locator('.session', { has: viewer.locator('.attribution', { hasText: text }) });

describe('npm run demo', () => {
  it('shows a campaign visit through the site and the SPA in the live viewer, grouped by session', async () => {
    const context = await browser.newContext();
    const viewer = await context.newPage();
    await viewer.goto(demo.urls.viewer);
    await viewer.locator('#connection[data-state="live"]').waitFor();

    const visitor = await context.newPage();
    // Landing through a campaign link: a new session that carries the campaign.
    await visitor.goto(demo.urls.site + 'campaigns');
    await visitor.click('a.campaign-link[href*="utm_source=newsletter"]');
    await visitor.waitForURL(/utm_source=newsletter/);
    await visitor.click('#hero-signup');
    await visitor.click('nav a[href="/pricing"]');
    await visitor.waitForURL(/\/pricing$/);
    await visitor.click('#signup-pro');
    // Into the SPA, then client-side navigation, log-in (identify) and a custom event.
    await visitor.click('text=Open the app');
    await visitor.waitForURL(/\/app\/$/);
    await visitor.click('#app-nav a[href="/app/campaigns"]');
    await visitor.click('#who a');
    await visitor.click('#login-form button[type="submit"]');
    await visitor.click('#new-project');
    await visitor.click('#app-nav a[href="/app/settings"]');

    const session = sessionCard(viewer, 'newsletter');
    const rows = session.locator('.ev');
    await rows.filter({ hasText: 'project_created' }).waitFor({ timeout: 30_000 });
    await expect
      .poll(() => session.locator('.ev[data-type="pageview"] .what b').allTextContents(), {
        timeout: 30_000,
      })
      .toEqual([
        '/',
        '/pricing',
        '/app/',
        '/app/campaigns',
        '/app/login',
        '/app/',
        '/app/settings',
      ]);
    expect(await session.locator('.journey').textContent()).toBe(
      'Journey/→/pricing→/app/→/app/campaigns→/app/login→/app/→/app/settings',
    );
    const attribution = await session.locator('.attribution').textContent();
    for (const text of [
      'utm_source',
      'newsletter',
      'utm_campaign',
      'launch-week',
      'utm_medium',
      'email',
    ])
      expect(attribution).toContain(text);
    // One session across both sites, identified by the SPA's log-in.
    expect(await session.locator('header .site').allTextContents()).toEqual([
      'marketing-site',
      'web-app',
    ]);
    expect(await session.locator('header .user').textContent()).toContain('user-ada');
    expect(await session.locator('.ev[data-type="event"] .what b').allTextContents()).toEqual(
      expect.arrayContaining(['login', 'project_created']),
    );

    // An event's row opens to show all its fields, the collector's enrichment included.
    const identify = session.locator('.ev[data-type="identify"]');
    await identify.locator('summary').click();
    const fields = await identify.locator('dl.fields').textContent();
    for (const text of [
      'userId',
      'user-ada',
      'traits',
      'ada@example.com',
      'receivedAt',
      'userAgent',
      'site',
      'web-app',
    ])
      expect(fields).toContain(text);

    // The buttons tagged with data-tracklet-event, sent by the click capture with their properties.
    const signups = session.locator('.ev[data-type="event"]', { hasText: 'signup' });
    await expect.poll(() => signups.count(), { timeout: 30_000 }).toBe(2);
    expect(await signups.allTextContents()).toEqual([
      expect.stringMatching(/signup.*plan\s*pro.*location\s*hero/),
      expect.stringMatching(/signup.*plan\s*pro/),
    ]);

    // Web Vitals of the pages left behind, summarised at p75 with their ratings; engagement per page.
    for (const metric of ['FCP', 'TTFB', 'LCP']) {
      const row = viewer.locator(`#vitals tr[data-metric="${metric}"]`);
      await expect
        .poll(async () => Number(await row.locator('td').nth(1).textContent()), { timeout: 30_000 })
        .toBeGreaterThan(0);
      expect(await row.locator('.p75').textContent()).toMatch(/^\d+(\.\d+)? m?s$/);
      expect(await row.locator('.ratings i').count()).toBeGreaterThan(0);
    }
    // The home page's hero image, served 1.2 s late, is its Largest Contentful Paint.
    const stored: {
      event: { type: string; path: string; metricName?: string; metricValue?: number };
    }[] = await demo.relay.store.events();
    const homeLcp = stored.find(
      ({ event }) => event.type == 'vital' && event.metricName == 'LCP' && event.path == '/',
    );
    expect(homeLcp?.event.metricValue).toBeGreaterThanOrEqual(1200);
    expect(await session.locator('.ev[data-type="engagement"]').first().textContent()).toMatch(
      /engaged · scrolled \d+% · \d+ interactions/,
    );

    // The collector's panel lists each destination with what it delivered.
    const warehouse = viewer.locator('#delivery li[data-destination="marketing-site/warehouse"]');
    await expect
      .poll(
        async () =>
          Number(
            await warehouse
              .locator('.count.delivered b')
              .textContent()
              .catch(() => '0'),
          ),
        { timeout: 30_000 },
      )
      .toBeGreaterThan(0);

    // The landing (/campaigns) started its own session before the campaign link was clicked.
    const direct = viewer.locator('.session', { has: viewer.locator('.attribution.direct') });
    expect(await direct.locator('.ev[data-type="pageview"] .what b').allTextContents()).toEqual([
      '/campaigns',
    ]);
    expect(await viewer.locator('#total-sessions').textContent()).toBe('2');
    const pageviews = Number(
      await viewer.locator('#type-counts li[data-type="pageview"] .n').textContent(),
    );
    expect(pageviews).toBe(8);
    await context.close();
  }, 120_000);

  it('shows errors from the failing buttons, and filters the feed by type', async () => {
    const context = await browser.newContext();
    const viewer = await context.newPage();
    await viewer.goto(demo.urls.viewer);
    await viewer.locator('#connection[data-state="live"]').waitFor();
    const visitor = await context.newPage();
    await visitor.goto(demo.urls.site + '?trc_source=partner-blog&trc_cid=cmp-42');
    await visitor.click('#throw-error');
    await visitor.click('#reject-promise');
    await visitor.evaluate(() => window.tracklet.track('after_errors'));
    const session = sessionCard(viewer, 'cmp-42');
    await session.locator('.ev', { hasText: 'after_errors' }).waitFor({ timeout: 30_000 });
    const errors = session.locator('.ev[data-type="error"]');
    await expect.poll(() => errors.count(), { timeout: 30_000 }).toBe(2);
    expect(await errors.allTextContents()).toEqual([
      expect.stringContaining('TypeError'),
      expect.stringContaining('Quote service timed out'),
    ]);
    // Filtering by a type hides every other row and every session without that type.
    await viewer.click('#type-counts li[data-type="event"] button');
    const visible = await viewer
      .locator('.ev:visible')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-type')));
    expect(visible.filter((type) => type != 'event')).toEqual([]);
    expect(await session.locator('.ev:visible').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('after_errors')]),
    );
    await viewer.click('#clear-filter');
    expect(await session.locator('.ev:visible').count()).toBeGreaterThan(1);
    await context.close();
  }, 120_000);

  it('stores what the collector receives once per event id, forwards it, and reports both on /status', async () => {
    const event = {
      id: 'demo-test-1',
      type: 'event',
      name: 'from_node',
      timestamp: Date.now(),
      anonymousId: 'a',
      sessionId: 's',
      url: 'http://x/',
      path: '/',
    };
    const post = (site = 'marketing-site') =>
      fetch(demo.url + '/collect', {
        method: 'POST',
        body: JSON.stringify({ v: 1, site, sentAt: Date.now(), events: [event] }),
      });
    expect(await (await post()).json()).toEqual({ ok: true, accepted: 1, duplicates: 0 });
    expect(await (await post()).json()).toEqual({ ok: true, accepted: 0, duplicates: 1 });
    expect((await post('unknown-site')).status).toBe(403);
    expect((await fetch(demo.url + '/collect', { method: 'POST', body: 'not json' })).status).toBe(
      400,
    );
    const stored: { site: string; event: { id: string } }[] = await demo.relay.store.events();
    expect(stored.filter((line) => line.event.id == 'demo-test-1')).toEqual([
      expect.objectContaining({
        site: 'marketing-site',
        event,
        ip: '127.0.0.1',
        receivedAt: expect.any(Number),
      }),
    ]);
    expect(await (await fetch(demo.url + '/health')).json()).toEqual({ status: 'ok' });
    // Each site forwards to the demo's two webhooks; the CRM refuses some requests, and is retried.
    await expect
      .poll(
        async () =>
          (await (await fetch(demo.url + '/status')).json()).destinations.filter(
            (d: { queued: number }) => d.queued == 0,
          ).length,
        { timeout: 20_000 },
      )
      .toBe(4);
    const status = await (await fetch(demo.url + '/status')).json();
    expect(status.events).toBe(stored.length);
    const warehouse = status.destinations.find(
      (d: { destination: string }) => d.destination == 'marketing-site/warehouse',
    );
    expect(warehouse).toMatchObject({ type: 'webhook', queued: 0, dead: 0 });
    expect(warehouse.delivered).toBe(stored.filter((line) => line.site == 'marketing-site').length);
  });
});

/** Runs `node demo/server.mjs` with `args` until `until` matches its output (or it exits). */
const runServer = (args: string[], until: RegExp) => {
  const child = spawn(process.execPath, ['demo/server.mjs', ...args], {
    cwd: ROOT,
    env: { ...process.env, PORT: '' },
  });
  let output = '';
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const matched = new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no ${until} in: ${output}`)), 20_000);
    const read = (chunk: Buffer) => {
      output += chunk;
      if (until.test(output)) (clearTimeout(timer), done(output));
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    exited.then(() => setTimeout(() => fail(new Error(`exited: ${output}`)), 100));
  });
  return { child, matched, exited };
};

describe('demo server process', () => {
  it('prints the URLs to open, and stops cleanly on Ctrl-C (SIGINT)', async () => {
    const store = join(mkdtempSync(join(tmpdir(), 'tracklet-demo-')), 'events.db');
    const { child, matched, exited } = runServer(['--port', '0', '--store', store], /Press Ctrl-C/);
    const output = await matched;
    const viewer = output.match(/Live viewer\s+(http:\/\/127\.0\.0\.1:\d+\/viewer\/)/)![1];
    expect(output).toMatch(/Marketing site\s+http:\/\/127\.0\.0\.1:\d+\//);
    expect(output).toMatch(/SPA \(npm build\)\s+http:\/\/127\.0\.0\.1:\d+\/app\//);
    // A viewer with its event stream open must not keep the process alive.
    const stream = await fetch(viewer.replace('/viewer/', '/events/stream'));
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await stream.body?.cancel().catch(() => {});
  });

  it('names a port in use and how to pick another', async () => {
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const { port } = blocker.address() as { port: number };
    const { matched, exited } = runServer(['--port', String(port)], /in use/);
    const output = await matched;
    expect(output).toContain(`Port ${port} on 127.0.0.1 is already in use`);
    expect(output).toContain(`npm run demo -- --port ${port + 1}`);
    expect(await exited).toBe(1);
    await new Promise((done) => blocker.close(done));
  });
});
